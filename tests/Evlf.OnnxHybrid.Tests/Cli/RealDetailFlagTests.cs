using Evlf.Cli.Commands;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;
using Xunit;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>
/// The default preset keeps the real starts' detail from IPC 50 up (<see cref="DistillOptions.DefaultRealDetailIpc"/>); the
/// flags that turn it on, off, or away with the start it belongs to.
/// </summary>
public class RealDetailFlagTests
{
    static DistillOptions Options(int ipc, bool on = false, bool off = false, string? start = null, string preset = "default") =>
        DistillCommand.Options(new DistillCommand.Settings { Ipc = ipc, RealDetail = on, NoRealDetail = off, Start = start, Preset = preset });

    [Fact]
    public void TheDefaultKeepsTheDetailFromIpc50UpAndNotBelow()
    {
        Assert.True(Options(50).RealDetail);
        Assert.Equal(DistillOptions.DefaultRealDetailStrength, Options(50).Strength);
        Assert.False(Options(10).RealDetail);
        Assert.Equal(DistillOptions.DefaultRealStrength, Options(10).Strength);
    }

    [Fact]
    public void NoRealDetailDecodesAsBeforeAndRealDetailAddsItBelowIpc50()
    {
        Assert.False(Options(50, off: true).RealDetail);
        Assert.True(Options(10, on: true).RealDetail);
        Assert.False(Options(50, preset: "released").RealDetail);
    }

    [Theory]
    [InlineData("noise")]
    [InlineData("modes")]
    public void AnotherStartDropsThePresetsDetailInsteadOfBeingRefused(string start)
    {
        var options = Options(50, start: start);
        Assert.False(options.RealDetail);
        options.Validate();
        // Asked for by name it is still refused with that start.
        Assert.Throws<UserInputException>(() => Options(50, on: true, start: start).Validate());
    }

    [Fact]
    public void BothFlagsAreOneLineError()
    {
        using var dir = new TempDir();
        var outDir = dir.Combine("never-written");
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--real-detail", "--no-real-detail", "--out", outDir));
        Assert.Contains("--real-detail and --no-real-detail contradict each other; give one.", line);
        Assert.False(Directory.Exists(outDir));
    }
}
