using Evlf.Cli.Commands;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;
using Xunit;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>--one-per-mode: one candidate of each mode before any mode gives a second (<see cref="DistillOptions.OnePerMode"/>).</summary>
public class OnePerModeFlagTests
{
    [Fact]
    public void TheFlagSetsTheOptionAndLeavingItOutDoesNot()
    {
        Assert.True(DistillCommand.Options(new DistillCommand.Settings { OnePerMode = true }).OnePerMode);
        Assert.False(DistillCommand.Options(new DistillCommand.Settings()).OnePerMode);
    }

    [Fact]
    public void WithoutCandidatesItIsAOneLineErrorNamingTheFlag()
    {
        using var dir = new TempDir();
        var outDir = dir.Combine("never-written");
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--preset", "released", "--one-per-mode", "--out", outDir));
        Assert.Contains("--one-per-mode chooses among each mode's candidates, but there is 1 candidate per image", line);
        Assert.False(Directory.Exists(outDir));
    }
}
