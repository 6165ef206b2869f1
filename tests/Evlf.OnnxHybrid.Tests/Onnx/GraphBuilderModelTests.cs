using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>The model a builder writes: IR version, opset and producer, the op types it can emit, later opsets, independent copies.</summary>
public class GraphBuilderModelTests
{
    [Fact]
    public void ModelHasIrVersion8Opset17AndProducer()
    {
        var g = new GraphBuilder("tiny");
        var x = g.Input("x", ElementType.Float, "batch", 3);
        g.Output("y", g.Relu(x));
        var model = g.Build();
        Assert.Equal(8, model.Proto.IrVersion);
        Assert.Equal("Evlf.OnnxHybrid", model.Proto.ProducerName);
        Assert.Equal(17, model.Opset);
        Assert.Single(model.Proto.OpsetImport);
        Assert.Equal("", model.Proto.OpsetImport[0].Domain);
        Assert.Equal("tiny", model.Graph.Name);
    }

    [Fact]
    public void OpTypesListsExactlyWhatTheBuilderEmits()
    {
        var g = new GraphBuilder("every-op");
        var img = g.Input("img", ElementType.Float, "batch", 4, 8, 8);
        var t = g.Input("t", ElementType.Int64, "batch");
        var y = g.Input("y", ElementType.Int64, "batch");
        var h = g.Conv2d("conv", img, 4, 8, 3, padding: 1);
        h = g.GroupNorm("gn", h, 2, 8);
        h = g.BatchNorm2d("bn", g.Silu(h), 8);
        h = g.AvgPool2d(g.UpsampleNearest(h), 2);
        var pooled = g.Flatten(g.AdaptiveAvgPool2d(h, 2, 2));                       // (N, 32)
        pooled = g.Gemm(pooled, g.Parameter("gemm.weight", new long[] { 32, 32 }, ParameterInit.TorchDefaultWeight),
            g.Parameter("gemm.bias", new long[] { 32 }, ParameterInit.Uniform(0.1)), transB: true);
        var global = g.Reshape(g.GlobalAvgPool(h), g.Concat(0, g.Unsqueeze(g.Gather(g.Shape(h), 0), 0), g.Int64Vector(-1)));
        var c = g.Add(g.SinusoidalEmbedding(t, 7), g.Embedding("y_emb", y, 10, 7));   // (N, 7)
        c = g.Linear("c", g.Gelu(g.Tanh(c), GeluApproximation.Tanh), 7, 8);
        var tokens = g.Transpose(g.Flatten(h, 2), 0, 2, 1);                             // (N, 64, 8)
        tokens = g.Add(tokens, g.Unsqueeze(g.Mul(c, g.Sigmoid(global)), 1));
        tokens = g.LayerNorm("ln", g.Attention("attn", tokens, 8, 2, options: AttentionOptions.DiT), 8, affine: false);
        tokens = g.MultiheadAttention("mha", tokens, tokens, tokens, 8, 2, dropout: 0.1);
        var parts = g.Chunk(tokens, 2, -1);
        var mixed = g.Softmax(g.MatMul(parts[0], g.Transpose(parts[1], 0, 2, 1)));
        var math = g.Div(g.Sub(g.Sqrt(g.Exp(g.Neg(g.Pow(mixed, 2)))), g.Erf(g.Sin(g.Cos(mixed)))), 3.0);
        var first = g.Squeeze(g.Slice(math, new long[] { 1 }, new long[] { 0 }, new long[] { 1 }), 1);
        g.Output("out", g.Relu(g.Dropout(g.Concat(1, first, pooled), 0.2)));
        g.Output("label", g.Cast(y, ElementType.Float));
        g.Output("img_again", img);
        var model = g.Build();

        Assert.Equal(GraphBuilder.OpTypes.Order(), model.Graph.Node.Select(n => n.OpType).Distinct().Order());
        using var session = GraphRun.Session(model);
        using var imgs = randn(2, 4, 8, 8);
        using var ts = tensor(new long[] { 3, 999 });
        using var ys = tensor(new long[] { 0, 9 });
        var outs = GraphRun.Run(session, ("img", imgs), ("t", ts), ("y", ys));
        Assert.Equal(new long[] { 2, 64 + 32 }, outs[0].shape);
        Assert.False(outs[0].isnan().any().item<bool>());
    }

    [Fact]
    public void LaterOpsetsBuildAndRun()
    {
        var g = new GraphBuilder("opset21", opset: 21);
        var x = g.Input("x", ElementType.Float, "batch", 4, 4, 4);
        var h = g.GroupNorm("norm", x, 2, 4);
        h = g.UpsampleNearest(g.Conv2d("conv", g.Silu(h), 4, 4, 3, padding: 1));
        var tokens = g.Transpose(g.Flatten(h, 2), 0, 2, 1);
        tokens = g.LayerNorm("ln", g.Attention("attn", tokens, 4, 2, options: AttentionOptions.DiT), 4);
        g.Output("y", tokens);
        var model = g.Build();
        Assert.Equal(21, model.Opset);
        using var session = GraphRun.Session(model);
        using var input = randn(2, 4, 4, 4);
        Assert.Equal(new long[] { 2, 64, 4 }, GraphRun.Run(session, ("x", input))[0].shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GraphBuilder("old", opset: 13));
    }

    [Fact]
    public void BuildReturnsIndependentCopies()
    {
        var g = new GraphBuilder("copies");
        var x = g.Input("x", ElementType.Float, 2);
        g.Output("y", g.Linear("fc", x, 2, 2));
        var first = g.Build();
        g.SetParameter("fc.bias", new float[] { 7, 7 });
        var second = g.Build();
        Assert.NotEqual(OnnxTensor.ToFloats(first.Graph.Initializer[1]), OnnxTensor.ToFloats(second.Graph.Initializer[1]));
        Assert.Equal(first.Graph.Node.Count, second.Graph.Node.Count);
    }
}
