using System.ComponentModel;
using System.Reflection;
using Spectre.Console.Cli;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>
/// Every command's help renders: option descriptions are console markup, so a stray bracket in one of them breaks
/// `--help` for the whole command; and every option has a description, so `--help` says what each one does.
/// </summary>
public class HelpTests
{
    [Theory]
    [InlineData("distill")]
    [InlineData("train-fusion")]
    [InlineData("inspect")]
    [InlineData("pretrain")]
    [InlineData("sample")]
    [InlineData("bench")]
    [InlineData("eval")]
    [InlineData("report")]
    public void HelpRendersEveryOption(string command)
    {
        var r = EvlfProcess.Run(command, "--help");
        Assert.True(r.ExitCode == 0, $"evlf {command} --help exited {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        Assert.Contains("OPTIONS:", r.Stdout);
        Assert.Equal("", r.Stderr.Trim());
    }

    [Fact]
    public void TopLevelHelpRenders()
    {
        var r = EvlfProcess.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("distill", r.Stdout);
    }

    [Fact]
    public void VersionPrintsTheLibraryVersionAManifestRecords()
    {
        var r = EvlfProcess.Run("--version");
        Assert.True(r.ExitCode == 0, $"evlf --version exited {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        Assert.Equal(Evlf.OnnxHybrid.Training.Provenance.LibraryVersion, r.Stdout.Trim());
        Assert.Equal("", r.Stderr.Trim());
    }

    [Fact]
    public void EveryOptionSaysWhatItDoes()
    {
        var settings = typeof(Evlf.Cli.Commands.DistillCommand).Assembly.GetTypes()
            .Where(t => typeof(CommandSettings).IsAssignableFrom(t) && !t.IsAbstract);
        var undescribed =
            from type in settings
            from property in type.GetProperties()
            let option = property.GetCustomAttribute<CommandOptionAttribute>()
            where option is not null && string.IsNullOrWhiteSpace(property.GetCustomAttribute<DescriptionAttribute>()?.Description)
            select $"{type.FullName}: {string.Join("|", option.LongNames.Select(n => "--" + n))}";
        Assert.Empty(undescribed);
    }
}
