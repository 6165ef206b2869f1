using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Fusion;

/// <summary>
/// The folded stage-B graph against the trained graph it is derived from, both in ONNX Runtime, with every weight
/// drawn at random (biases and norms included, so no folded term is trivially zero).
/// </summary>
public class FoldedFusionTests
{
    static readonly FusionConfig Small = FusionTests.Small;

    static OnnxModel RandomWeights(OnnxModel model, int seed)
    {
        var proto = model.Proto.Clone();
        var gen = new Generator((ulong)seed);
        for (int i = 0; i < proto.Graph.Initializer.Count; i++)
        {
            var t = proto.Graph.Initializer[i];
            if (t.DataType != (int)ElementType.Float || t.Dims.Count == 0) continue;
            var dims = t.Dims.ToArray();
            var values = (randn(dims, generator: gen) * 0.5).data<float>().ToArray();
            proto.Graph.Initializer[i] = OnnxTensor.FromFloats(t.Name, dims, values);
        }
        return OnnxModel.FromProto(proto);
    }

    static Tensor RunOrt(OnnxModel model, Dictionary<string, Tensor> inputs)
    {
        using var session = OnnxSession.FromModel(model, new SessionSettings(ExecutionDevice.Cpu));
        return session.Run(inputs)[CrossAttentionFusion.FusedOutput];
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 2)]
    [InlineData(false, 3)]
    public void FoldedGraphComputesTheTrainedGraph(bool preNorm, int layers)
    {
        using var scope = NewDisposeScope();
        var config = Small with { PreNorm = preNorm, Layers = layers };
        var trained = RandomWeights(CrossAttentionFusion.Build(config, 5), 6);
        var gen = new Generator(7);
        var tokens = randn(new long[] { 3, 5, 12 }, generator: gen);
        var labels = tensor(new long[] { 2, 0, 1, 1, 0, 2, 2 });
        var z = randn(new long[] { 7, 4, 8, 8 }, generator: gen);

        var expected = RunOrt(trained, new() { [CrossAttentionFusion.LatentInput] = z, [CrossAttentionFusion.TextInput] = tokens.index_select(0, labels) });
        var folded = FoldedFusion.Build(trained, config, tokens);
        var actual = RunOrt(folded, new() { [CrossAttentionFusion.LatentInput] = z, [FoldedFusion.ClassInput] = labels });

        Assert.Equal(expected.shape, actual.shape);
        double scale = Math.Max(1, expected.abs().max().item<float>());
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= 1e-5 * scale, $"max |diff| {diff:E2} at output scale {scale:F2}");
        // The point of folding: no projection of the concatenated [x₀; t] sequence is left (keys and values are
        // concatenated after their cheap per-part maps), while the trained graph projects it in every layer.
        Assert.Equal(2 * layers, ProjectionsOfConcat(trained));
        Assert.Equal(0, ProjectionsOfConcat(folded));
    }

    static int ProjectionsOfConcat(OnnxModel m)
    {
        var concats = m.Graph.Node.Where(n => n.OpType == "Concat").SelectMany(n => n.Output).ToHashSet();
        return m.Graph.Node.Count(n => n.OpType == "MatMul" && concats.Contains(n.Input[0]));
    }

    [Fact]
    public void RefreshedKeysAndValuesAreNotFoldedAndFuseRunsTheTrainedGraph()
    {
        using var scope = NewDisposeScope();
        var config = Small with { RefreshKeyValues = true };
        Assert.False(FoldedFusion.CanFold(config));
        Assert.True(FoldedFusion.CanFold(Small));
        var trained = RandomWeights(CrossAttentionFusion.Build(config, 5), 6);
        Assert.Throws<ArgumentException>(() => FoldedFusion.Build(trained, config, zeros(3, 5, 12)));

        string dir = Directory.CreateTempSubdirectory("evlf-folded-").FullName;
        try
        {
            string path = Path.Combine(dir, "fusion.onnx");
            trained.Save(path);
            var gen = new Generator(8);
            var tokens = randn(new long[] { 3, 5, 12 }, generator: gen);
            var labels = arange(6).remainder(3);
            var z = randn(new long[] { 6, 4, 8, 8 }, generator: gen);
            var plain = FusionEvaluation.Fuse(path, z, labels, tokens, new SessionSettings(ExecutionDevice.Cpu));
            var withConfig = FusionEvaluation.Fuse(path, z, labels, tokens, new SessionSettings(ExecutionDevice.Cpu), config);
            Assert.True(plain.equal(withConfig).all().item<bool>());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void WrongClassTokensAreRejected()
    {
        using var scope = NewDisposeScope();
        var trained = CrossAttentionFusion.Build(Small, 5);
        Assert.Throws<ArgumentException>(() => FoldedFusion.Build(trained, Small, zeros(3, 6, 12)));
    }
}
