using Evlf.Cli.Commands;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;
using Xunit;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>--own-view: real starts' samples written in their images' own orientation (<see cref="DistillOptions.OwnView"/>).</summary>
public class OwnViewFlagTests
{
    [Fact]
    public void TheFlagSetsTheOptionAndLeavingItOutDoesNot()
    {
        Assert.True(DistillCommand.Options(new DistillCommand.Settings { OwnView = true }).OwnView);
        Assert.False(DistillCommand.Options(new DistillCommand.Settings()).OwnView);
    }

    [Fact]
    public void FromNoiseItIsAOneLineErrorNamingTheFlag()
    {
        using var dir = new TempDir();
        var outDir = dir.Combine("never-written");
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--start", "noise", "--own-view", "--out", outDir));
        Assert.Contains("--own-view writes each sample in the orientation of the real image it starts from, but sampling starts from noise", line);
        Assert.False(Directory.Exists(outDir));
    }
}
