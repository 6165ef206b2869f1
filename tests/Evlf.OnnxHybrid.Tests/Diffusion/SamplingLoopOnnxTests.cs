using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Tests.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

/// <summary>The sampling loop with real denoisers: the small DiT fixture in ONNX Runtime and through the importer.</summary>
public class SamplingLoopOnnxTests
{
    [Fact]
    public void Mgd3LoopGivesTheSameSamplesWithOnnxRuntimeAndTheImporter()
    {
        var fx = new Fixture("dit");
        using var scope = NewDisposeScope();
        using var session = OnnxSession.Open(fx.ModelPath, new SessionSettings(ExecutionDevice.Cpu));
        using var module = OnnxTorchModule.Load(fx.ModelPath);
        module.eval();
        Func<Tensor, Tensor, Tensor?, Tensor> ort = (x, t, y) =>
            session.Run(new Dictionary<string, Tensor> { ["x"] = x, ["t"] = t, ["y"] = y! })["out"];
        Func<Tensor, Tensor, Tensor?, Tensor> importer = (x, t, y) =>
        {
            using var _ = no_grad();
            return module.Run(x, t, y!)[0];
        };

        var g = new Generator(41);
        var loop = new SamplingLoop(new DdpmSampler(SpacedSchedule.FromSections(NoiseSchedule.Create(NoiseScheduleOptions.DiT), "8")),
            SamplingLoopOptions.Mgd3 with { ModeGuidance = new ModeGuidanceOptions(StopT: 3) });
        var inputs = new SamplingInputs(randn(2, 4, 8, 8, generator: g))
        {
            Condition = tensor(new long[] { 2, 7 }),
            NullCondition = tensor(new long[] { 10 }), // the fixture has 10 classes; index 10 is the null class
            Modes = randn(2, 256, generator: g) * 0.5,
        };
        var viaOrt = loop.Run(ort, inputs, new Generator(3));
        var viaImporter = loop.Run(importer, inputs, new Generator(3));
        Assert.Equal(new long[] { 2, 4, 8, 8 }, viaOrt.shape);
        Assert.False(viaOrt.isnan().any().item<bool>());
        TensorAssert.Close(viaOrt, viaImporter, 1e-3, 1e-3, "ORT vs importer");
        Assert.True((viaOrt - inputs.XStart).abs().max().item<float>() > 0.1f);
    }
}
