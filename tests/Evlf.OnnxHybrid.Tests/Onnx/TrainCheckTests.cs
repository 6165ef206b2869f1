using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

public class TrainCheckTests
{
    [Theory]
    [InlineData("clip_text")]
    [InlineData("bn_dropout")]
    public void FittingRandomNoiseHalvesTheLoss(string name)
    {
        var fx = new Fixture(name);
        var model = fx.Load();
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 0);
        var r = TrainCheck.Run(model, inputs, seed: 0, steps: 50);
        Assert.True(r.LossAfter <= 0.5 * r.LossBefore, $"loss {r.LossBefore} -> {r.LossAfter}");
    }

    // What `evlf inspect --train-check` does by default. The torch-exported VAE decoder (GroupNorm as
    // InstanceNormalization, attention, nearest Resize) is the graph that white noise cannot show training on.
    [Theory]
    [InlineData("vae_decoder")]
    [InlineData("dit")]
    [InlineData("unet")]
    public void FittingAnotherInputsOutputsHalvesTheLoss(string name)
    {
        var model = new Fixture(name).Load();
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 0);
        var other = RandomInputs.For(model, seed: 1);
        var r = TrainCheck.Run(model, inputs, seed: 0, steps: 50, target: TrainCheckTarget.Outputs, targetInputs: other);
        Assert.True(r.LossBefore > 1e-3, $"the target is too close to the start: {r.LossBefore}");
        Assert.True(r.LossAfter <= 0.5 * r.LossBefore, $"loss {r.LossBefore} -> {r.LossAfter}");
    }

    [Fact]
    public void FittingOutputsNeedsTheOtherInputs()
    {
        var model = new Fixture("bn_dropout").Load();
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 0);
        Assert.Throws<ArgumentException>(() => TrainCheck.Run(model, inputs, seed: 0, target: TrainCheckTarget.Outputs));
    }
}
