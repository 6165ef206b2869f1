using Evlf.Cli.Commands;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;
using Xunit;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>
/// The sampling switches that only make sense beside another option: --one-per-mode (<see cref="DistillOptions.OnePerMode"/>,
/// needs candidates) and --own-view (<see cref="DistillOptions.OwnView"/>, needs real starts).
/// </summary>
public class SamplingSwitchFlagTests
{
    [Fact]
    public void EachFlagSetsItsOptionAndLeavingItOutDoesNot()
    {
        Assert.True(DistillCommand.Options(new DistillCommand.Settings { OnePerMode = true }).OnePerMode);
        Assert.True(DistillCommand.Options(new DistillCommand.Settings { OwnView = true }).OwnView);
        var plain = DistillCommand.Options(new DistillCommand.Settings());
        Assert.False(plain.OnePerMode);
        Assert.False(plain.OwnView);
    }

    [Theory]
    [InlineData("--one-per-mode chooses among each mode's candidates, but there is 1 candidate per image", "--preset", "released", "--one-per-mode")]
    [InlineData("--own-view writes each sample in the orientation of the real image it starts from, but sampling starts from noise", "--start", "noise", "--own-view")]
    public void WithoutWhatItNeedsItIsAOneLineErrorNamingTheFlag(string message, params string[] flags)
    {
        using var dir = new TempDir();
        var outDir = dir.Combine("never-written");
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run(["distill", .. flags, "--out", outDir]));
        Assert.Contains(message, line);
        Assert.False(Directory.Exists(outDir));
    }
}
