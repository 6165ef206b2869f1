using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

public class TrainCheckTests
{
    [Theory]
    [InlineData("clip_text")]
    [InlineData("bn_dropout")]
    public void FittingRandomTargetsHalvesTheLoss(string name)
    {
        var fx = new Fixture(name);
        var model = fx.Load();
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 0);
        var r = TrainCheck.Run(model, inputs, seed: 0, steps: 50);
        Assert.True(r.LossAfter <= 0.5 * r.LossBefore, $"loss {r.LossBefore} -> {r.LossAfter}");
    }
}
