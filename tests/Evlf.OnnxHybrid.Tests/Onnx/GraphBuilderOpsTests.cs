using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>The tensor ops in ONNX Runtime vs their TorchSharp meaning, with a dynamic batch (1 and 3).</summary>
public class GraphBuilderOpsTests
{
    readonly Generator generator = new(7);

    Tensor Randn(params long[] shape) => randn(shape, generator: generator);

    static OnnxModel Graph(Func<GraphBuilder, Value, Value> build, params Dim[] dims)
    {
        var g = new GraphBuilder("op");
        var x = g.Input("x", ElementType.Float, new Dim[] { "batch" }.Concat(dims).ToArray());
        var y = build(g, x);
        g.Output("y", y);
        return g.Build();
    }

    public static TheoryData<string> OpNames => new(Cases.Keys);

    static readonly Dictionary<string, (Func<GraphBuilder, Value, Value> Build, Func<Tensor, Tensor> Reference)> Cases = new()
    {
        ["reshape"] = ((g, x) => g.Reshape(x, 0, 3, -1), x => x.reshape(x.shape[0], 3, -1)),
        ["transpose"] = ((g, x) => g.Transpose(x, 0, 3, 1, 2), x => x.permute(0, 3, 1, 2)),
        ["flatten1"] = ((g, x) => g.Flatten(x), x => x.flatten(1)),
        ["flatten2"] = ((g, x) => g.Flatten(x, 2), x => x.flatten(2)),
        ["unsqueeze"] = ((g, x) => g.Unsqueeze(x, 1, -1), x => x.unsqueeze(1).unsqueeze(-1)),
        ["squeeze"] = ((g, x) => g.Squeeze(g.Slice(x, new long[] { 2 }, new long[] { 1 }, new long[] { 2 }), 2), x => x[.., .., 1]),
        ["concat"] = ((g, x) => g.Concat(1, x, g.Mul(x, 2.0)), x => cat(new[] { x, x * 2 }, 1)),
        ["chunk"] = ((g, x) => { var c = g.Chunk(x, 2, -1); return g.Sub(c[0], c[1]); }, x => { var c = x.chunk(2, -1); return c[0] - c[1]; }),
        ["split"] = ((g, x) => g.Split(x, 1, 1, 2)[1], x => x.split(new long[] { 1, 2 }, 1)[1]),
        ["slice"] = ((g, x) => g.Slice(x, new long[] { 1, -1 }, new long[] { 1, 1 }, new long[] { 3, -1 }), x => x[.., 1..3, .., 1..^1]),
        ["matmul"] = ((g, x) => g.MatMul(x, g.Transpose(x, 0, 1, 3, 2)), x => matmul(x, x.transpose(2, 3))),
        ["softmax"] = ((g, x) => g.Softmax(x, 1), x => F.softmax(x, 1)),
        ["arithmetic"] = ((g, x) => g.Div(g.Sub(g.Add(g.Mul(x, x), 3.0), x), 2.0), x => (x * x + 3 - x) / 2),
        ["pow-sqrt-exp"] = ((g, x) => g.Add(g.Sqrt(g.Pow(x, 2)), g.Exp(g.Neg(x))), x => x.pow(2).sqrt() + (-x).exp()),
        ["sin-cos-erf"] = ((g, x) => g.Add(g.Mul(g.Sin(x), g.Cos(x)), g.Erf(x)), x => x.sin() * x.cos() + x.erf()),
        ["cast"] = ((g, x) => g.Cast(g.Cast(g.Mul(x, 10.0), ElementType.Int64), ElementType.Float), x => (x * 10).to(ScalarType.Int64).to(ScalarType.Float32)),
        ["constant"] = ((g, x) => g.Add(x, g.Constant(new float[] { 1, 2, 3, 4 }, 4)), x => x + tensor(new float[] { 1, 2, 3, 4 })),
        ["gather"] = ((g, x) => g.Gather(x, 2, axis: 3), x => x[.., .., .., 2]),
        // Reshape to (batch, -1) with the batch read from the runtime shape.
        ["dynamic-reshape"] = ((g, x) => g.Reshape(x, g.Concat(0, g.Unsqueeze(g.Gather(g.Shape(x), 0), 0), g.Int64Vector(-1))), x => x.reshape(x.shape[0], -1)),
    };

    [Theory]
    [MemberData(nameof(OpNames))]
    public void OpMatchesTorch(string name)
    {
        var (build, reference) = Cases[name];
        var model = Graph(build, 3, 2, 4);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 2, 4), reference);
    }

    [Fact]
    public void ShapeReportsTheRuntimeShape()
    {
        var g = new GraphBuilder("shape");
        var x = g.Input("x", ElementType.Float, "batch", 3, "len");
        g.Output("full", g.Shape(x));
        g.Output("tail", g.Shape(x, start: 1));
        var batch = g.Gather(g.Shape(x), 0);
        Assert.Equal(ElementType.Int64, g.TypeOf(batch));
        Assert.Equal(Array.Empty<Dim>(), g.ShapeOf(batch));
        g.Output("batch", batch);
        using var session = GraphRun.Session(g.Build());
        foreach (var (n, len) in new[] { (1, 5), (3, 2) })
        {
            using var x0 = Randn(n, 3, len);
            var outs = GraphRun.Run(session, ("x", x0));
            Assert.Equal(new long[] { n, 3, len }, outs[0].data<long>().ToArray());
            Assert.Equal(new long[] { 3, len }, outs[1].data<long>().ToArray());
            Assert.Equal(n, outs[2].item<long>());
        }
    }

    [Fact]
    public void StaticShapesFollowTheOps()
    {
        var g = new GraphBuilder("static");
        var x = g.Input("x", ElementType.Float, "batch", 4, 8, 8);
        Assert.Equal(new Dim[] { "batch", 4, 64 }, g.ShapeOf(g.Flatten(x, 2)));
        Assert.Equal(new Dim[] { "batch", 256 }, g.ShapeOf(g.Flatten(x)));
        Assert.Equal(new Dim[] { "batch", 16, 16 }, g.ShapeOf(g.Reshape(x, 0, 16, -1)));
        Assert.Equal(new Dim[] { "batch", 4, 4, 4 }, g.ShapeOf(g.Conv2d("down", x, 4, 4, 3, stride: 2, padding: 1)));
        Assert.Equal(new Dim[] { "batch", 4, 16, 16 }, g.ShapeOf(g.UpsampleNearest(x)));
        Assert.Equal(new Dim[] { "batch", 8, 8, 8 }, g.ShapeOf(g.Concat(1, x, x)));
        Assert.Equal(new Dim[] { "batch", 4, 8, 2 }, g.ShapeOf(g.Chunk(x, 4, -1)[3]));
        Assert.Equal(new Dim[] { "batch", 1, 4, 8, 8 }, g.ShapeOf(g.Unsqueeze(x, 1)));
        var tokens = g.Transpose(g.Flatten(x, 2), 0, 2, 1);
        Assert.Equal(new Dim[] { "batch", 64, 4 }, g.ShapeOf(g.MatMul(tokens, g.Constant(new float[16], 4, 4))));
        var t = g.Input("t", ElementType.Int64, "batch");
        Assert.Equal(new Dim[] { "batch", 32 }, g.ShapeOf(g.SinusoidalEmbedding(t, 32)));
        Assert.Equal(new Dim[] { "batch", 5 }, g.ShapeOf(g.SinusoidalEmbedding(t, 5)));
        var ids = g.Input("ids", ElementType.Int64, "batch", 7);
        Assert.Equal(new Dim[] { "batch", 7, 3 }, g.ShapeOf(g.Embedding("emb", ids, 10, 3)));
    }
}
