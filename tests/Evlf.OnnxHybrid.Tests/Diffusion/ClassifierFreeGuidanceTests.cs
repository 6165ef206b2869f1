using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class ClassifierFreeGuidanceTests
{
    [Fact]
    public void CombineMatchesTheReferenceInBothModes()
    {
        var v = new ReferenceVectors("cfg");
        using var scope = NewDisposeScope();
        var cond = v.Tensor("cond");
        var uncond = v.Tensor("uncond");
        TensorAssert.Close(v.Tensor("standard_s4"), ClassifierFreeGuidance.Combine(cond, uncond, new GuidanceOptions(4.0)), 1e-6, 1e-6, "standard");
        TensorAssert.Close(v.Tensor("dit_s4"), ClassifierFreeGuidance.Combine(cond, uncond, GuidanceOptions.DiT), 1e-6, 1e-6, "DiT channels");
        TensorAssert.Close(v.Tensor("standard_s1"), ClassifierFreeGuidance.Combine(cond, uncond, new GuidanceOptions(1.0)), 1e-6, 1e-6, "standard s=1");
        TensorAssert.Close(v.Tensor("dit_s1"), ClassifierFreeGuidance.Combine(cond, uncond, GuidanceOptions.DiT with { Scale = 1.0 }), 1e-6, 1e-6, "DiT s=1");
        // The [cond; uncond] batch form is the same combination.
        var batch = cat(new[] { cond, uncond }, 0);
        TensorAssert.Close(v.Tensor("dit_s4"), ClassifierFreeGuidance.CombineHalves(batch, GuidanceOptions.DiT), 1e-6, 1e-6, "halves");
    }

    [Fact]
    public void ScaleOneGivesTheConditionalOutput()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(9);
        var cond = randn(3, 8, 4, 4, generator: g);
        var uncond = randn(3, 8, 4, 4, generator: g);
        TensorAssert.Close(cond, ClassifierFreeGuidance.Combine(cond, uncond, new GuidanceOptions(1.0)), 1e-6, 1e-6, "standard");
        TensorAssert.Close(cond, ClassifierFreeGuidance.Combine(cond, uncond, new GuidanceOptions(1.0, 3)), 1e-6, 1e-6, "DiT");
        TensorAssert.Close(uncond, ClassifierFreeGuidance.Combine(cond, uncond, new GuidanceOptions(0.0)), 0, 0, "s = 0");
    }

    [Fact]
    public void DiTModeLeavesChannelThreeAndTheVarianceConditional()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(10);
        var cond = randn(2, 8, 4, 4, generator: g);
        var uncond = randn(2, 8, 4, 4, generator: g);
        var guided = ClassifierFreeGuidance.Combine(cond, uncond, GuidanceOptions.DiT);
        TensorAssert.Close(cond.narrow(1, 3, 5), guided.narrow(1, 3, 5), 0, 0, "channels 3..7");
        var standard = ClassifierFreeGuidance.Combine(cond, uncond, new GuidanceOptions(4.0));
        TensorAssert.Close(standard.narrow(1, 0, 3), guided.narrow(1, 0, 3), 0, 0, "channels 0..2");
        Assert.True((standard.narrow(1, 3, 1) - guided.narrow(1, 3, 1)).abs().max().item<float>() > 0.1f);
        // The inputs are untouched.
        Assert.False(ReferenceEquals(cond, guided));
    }

    [Fact]
    public void MismatchedShapesAndChannelCountsAreRejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Combine(zeros(2, 8, 4, 4), zeros(2, 4, 4, 4), GuidanceOptions.DiT));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassifierFreeGuidance.Combine(zeros(2, 2, 4, 4), zeros(2, 2, 4, 4), GuidanceOptions.DiT));
        Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.CombineHalves(zeros(3, 8, 4, 4), GuidanceOptions.DiT));
    }
}
