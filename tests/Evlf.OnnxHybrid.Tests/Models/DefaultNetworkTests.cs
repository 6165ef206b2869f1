using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Models;

/// <summary>The default bundle's networks: shapes, ONNX Runtime vs importer parity, and DiT's structural facts.</summary>
public class DefaultNetworkTests
{
    static void AssertParity(OnnxModel model, int batch, params (string Name, long[] Shape)[] outputs)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 4, batch: batch);
        var diffs = ParityCheck.Run(model, inputs);
        foreach (var (name, shape) in outputs)
        {
            var d = diffs.Single(x => x.Name == name);
            Assert.Equal(shape, d.Shape);
            Assert.True(d.MaxAbsDiff <= 1e-4, $"{name}: {d.MaxAbsDiff:E2}");
        }
    }

    [Fact]
    public void VaeEncoderAndDecoderHaveTheLatentShapes()
    {
        var c = new KlVaeConfig(Channels: new[] { 8, 16, 32 }, Groups: 4);
        AssertParity(KlVae.BuildEncoder(c, 1), 3, ("mean", new long[] { 3, 4, 8, 8 }), ("logvar", new long[] { 3, 4, 8, 8 }));
        AssertParity(KlVae.BuildDecoder(c, 1), 2, ("image", new long[] { 2, 1, 32, 32 }));
    }

    [Fact]
    public void UNetMapsLatentsToNoiseOfTheSameShape()
    {
        var c = new TextUNetConfig(Channels: new[] { 16, 32 }, Heads: 2, Groups: 4, ContextDim: 24, ContextLength: 5, TimeEmbeddingDim: 32);
        AssertParity(TextUNet.Build(c, 2), 2, ("noise_pred", new long[] { 2, 4, 8, 8 }));
    }

    [Fact]
    public void DitIsZeroAtInitialisationAndFaithfulOnceWeightsMove()
    {
        using var scope = NewDisposeScope();
        var c = new ClassDitConfig(Hidden: 32, Depth: 2, Heads: 2);
        var model = ClassDit.Build(c, 3);
        // adaLN-Zero: the final layer starts at zero, so the initial output is exactly zero.
        using var session = OnnxSession.FromModel(model, new SessionSettings(ExecutionDevice.Cpu));
        var inputs = RandomInputs.For(model, seed: 1, batch: 2);
        Assert.InRange(inputs["y"].max().item<long>(), 0, c.Classes);
        Assert.Equal(0f, session.Run(inputs)["out"].abs().max().item<float>());
        Assert.Contains(model.Proto.MetadataProps, p => p.Key == GraphBuilder.FrozenMetadataKey && p.Value.Contains("pos_embed"));

        // Randomise every parameter so each path matters, then compare the executors.
        var g = model.Proto.Clone();
        var gen = new Generator(5);
        foreach (var init in g.Graph.Initializer)
        {
            var fresh = OnnxTensor.FromTorch(init.Name, randn(init.Dims.ToArray(), generator: gen) * 0.2f);
            init.RawData = fresh.RawData;
        }
        AssertParity(OnnxModel.FromProto(g), 3, ("out", new long[] { 3, 8, 8, 8 }));
    }

    [Fact]
    public void SinCosTableMatchesItsDefinition()
    {
        // Independent spot checks of MAE's 2-D table for D = 8, grid 4: token (r=2, c=3).
        var t = ClassDit.SinCosTable(8, 4);
        int token = 2 * 4 + 3;
        double[] expected =
        {
            Math.Sin(3), Math.Sin(3 / 100.0), Math.Cos(3), Math.Cos(3 / 100.0),
            Math.Sin(2), Math.Sin(2 / 100.0), Math.Cos(2), Math.Cos(2 / 100.0),
        };
        for (int k = 0; k < 8; k++) Assert.Equal(expected[k], t[token * 8 + k], 5);
    }
}
