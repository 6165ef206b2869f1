using Evlf.OnnxHybrid.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>The builder's core: model metadata, scopes and names, parameters vs constants, inputs/outputs.</summary>
public class GraphBuilderTests
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
    public void ScopesNameParametersLikeAStateDict()
    {
        var g = new GraphBuilder("fusion");
        var x = g.Input("x", ElementType.Float, "batch", 5, 8);
        using (g.Scope("layers.0"))
        {
            x = g.Linear("attn.out_proj", x, 8, 8);
            using (g.Scope("ffn"))
                x = g.Linear("0", x, 8, 4, bias: false);
            Assert.Equal("layers.0", g.CurrentScope);
        }
        x = g.LayerNorm("norm", x, 4);
        Assert.Equal("", g.CurrentScope);
        g.Output("y", x);

        Assert.Equal(
            new[] { "layers.0.attn.out_proj.weight", "layers.0.attn.out_proj.bias", "layers.0.ffn.0.weight", "norm.weight", "norm.bias" },
            g.Parameters.Select(p => p.Name));
        Assert.Equal(new long[] { 8, 8 }, g.Parameters[0].Shape);
        Assert.Equal(new long[] { 4, 8 }, g.Parameters[2].Shape);
        Assert.Equal(8 * 8 + 8 + 4 * 8 + 4 + 4, g.ParameterCount);

        var model = g.Build();
        Assert.Equal(g.Parameters.Select(p => p.Name), model.Graph.Initializer.Select(t => t.Name));
        // Nodes carry the module path, like torch.onnx.export's names.
        Assert.Contains(model.Graph.Node, n => n.Name.StartsWith("/layers.0/attn.out_proj/MatMul_"));
        Assert.Contains(model.Graph.Node, n => n.Name.StartsWith("/layers.0/ffn/0/"));
    }

    [Fact]
    public void DuplicateParameterNamesAreAnError()
    {
        var g = new GraphBuilder("dup");
        var x = g.Input("x", ElementType.Float, "batch", 4);
        using (g.Scope("block"))
            g.Linear("proj", x, 4, 4);
        var e = Assert.Throws<ArgumentException>(() =>
        {
            using (g.Scope("block")) g.Linear("proj", x, 4, 4);
        });
        Assert.Contains("block.proj.weight", e.Message);
        Assert.Throws<ArgumentException>(() => g.Parameter("block.proj.bias", new long[] { 4 }, ParameterInit.Zeros));
        // Same local name in another scope is fine.
        using (g.Scope("other")) g.Linear("proj", x, 4, 4);
        Assert.Equal(new[] { "block.proj.weight", "block.proj.bias", "other.proj.weight", "other.proj.bias" }, g.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void InputNamesMustBeUniqueAndNotReserved()
    {
        var g = new GraphBuilder("names");
        g.Input("x", ElementType.Float, 2);
        g.Parameter("w", new long[] { 2 }, ParameterInit.Ones);
        Assert.Throws<ArgumentException>(() => g.Input("x", ElementType.Float, 2));
        Assert.Throws<ArgumentException>(() => g.Input("w", ElementType.Float, 2));
        Assert.Throws<ArgumentException>(() => g.Input("/internal", ElementType.Float, 2));
        Assert.Throws<ArgumentException>(() => g.Input("u", ElementType.Float, 2, Dim.Unknown));
    }

    [Fact]
    public void ScopesMustCloseInOrder()
    {
        var g = new GraphBuilder("scopes");
        var outer = g.Scope("a");
        var inner = g.Scope("b");
        Assert.Equal("a.b", g.CurrentScope);
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        Assert.Equal("", g.CurrentScope);
        Assert.Throws<ArgumentException>(() => g.Scope("a..b"));
        Assert.Throws<ArgumentException>(() => g.Scope("a/b"));
    }

    [Fact]
    public void ConstantsAreConstantNodesNeverInitializers()
    {
        var g = new GraphBuilder("consts");
        var x = g.Input("x", ElementType.Float, "batch", 3, 4);
        var y = g.LayerNorm("norm", x, 4, eps: 1e-6, affine: false);
        y = g.Add(g.Reshape(y, 0, -1), g.Constant(new float[12], 12));
        g.Output("y", y);
        var model = g.Build();
        Assert.Empty(g.Parameters);
        Assert.Empty(model.Graph.Initializer);
        Assert.Contains(model.Graph.Node, n => n.OpType == "Constant");
        Assert.All(model.Graph.Node.Where(n => n.OpType == "Constant"), n => Assert.StartsWith("/", n.Output[0]));
    }

    [Fact]
    public void FrozenBuffersAreListedInMetadata()
    {
        var g = new GraphBuilder("bn");
        var x = g.Input("x", ElementType.Float, "batch", 3, 2, 2);
        using (g.Scope("features"))
            x = g.BatchNorm2d("0", x, 3);
        g.Parameter("pos_table", new long[] { 1, 3 }, ParameterInit.Constant(new float[] { 1, 2, 3 }), trainable: false);
        g.Output("y", x);
        var model = g.Build();
        var frozen = model.Proto.MetadataProps.Single(p => p.Key == GraphBuilder.FrozenMetadataKey).Value.Split(',');
        Assert.Equal(new[] { "features.0.running_mean", "features.0.running_var", "pos_table" }, frozen);
        Assert.True(g.Parameters.Single(p => p.Name == "features.0.weight").Trainable);
        Assert.False(g.Parameters.Single(p => p.Name == "pos_table").Trainable);
    }

    [Fact]
    public void OutputsAreRenamedOrRoutedThroughIdentity()
    {
        var g = new GraphBuilder("outs");
        var x = g.Input("x", ElementType.Float, "batch", 3);
        var y = g.Relu(x);
        var z = g.Mul(y, 2.0);
        g.Output("relu", y);        // intermediate, consumed later: renamed everywhere
        g.Output("double", z);
        g.Output("same", x);        // a graph input: Identity
        g.Output("double_again", z); // exported twice: Identity for both
        var model = g.Build();
        Assert.Equal(new[] { "relu", "double", "same", "double_again" }, model.Graph.Output.Select(o => o.Name));
        Assert.Contains(model.Graph.Node, n => n.OpType == "Relu" && n.Output[0] == "relu");
        Assert.Contains(model.Graph.Node, n => n.OpType == "Mul" && n.Input[0] == "relu");

        using var session = GraphRun.Session(model);
        using var input = tensor(new float[] { -1, 2, 3, -4, 5, 6 }).reshape(2, 3);
        var outs = GraphRun.Run(session, ("x", input));
        GraphRun.AssertClose(nn.functional.relu(input), outs[0]);
        GraphRun.AssertClose(nn.functional.relu(input) * 2, outs[1]);
        GraphRun.AssertClose(input, outs[2]);
        GraphRun.AssertClose(nn.functional.relu(input) * 2, outs[3]);
    }

    [Fact]
    public void OutputShapesAreInferredSymbolicOrDeclared()
    {
        var g = new GraphBuilder("shapes");
        var x = g.Input("z_img", ElementType.Float, "batch", 4, 8, 8);
        var tokens = g.Transpose(g.Flatten(x, 2), 0, 2, 1);
        Assert.Equal(new Dim[] { "batch", 64, 4 }, g.ShapeOf(tokens));
        var h = g.Linear("proj", tokens, 4, 16);
        g.Output("tokens", h);
        g.Output("pooled", g.GlobalAvgPool(x), "batch", 4, 1, 1);
        Assert.Throws<ArgumentException>(() => g.Output("bad", x, "batch", 5, 8, 8));
        Assert.Throws<ArgumentException>(() => g.Output("bad", x, "batch", 4));
        var model = g.Build();
        var dims = model.Graph.Output[0].Type.TensorType.Shape.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Equal(new long[] { 64, 16 }, dims.Skip(1).Select(d => d.DimValue));
        Assert.Equal(1, model.Graph.Output[0].Type.TensorType.ElemType);

        using var session = GraphRun.Session(model);
        foreach (int batch in new[] { 1, 3 })
        {
            using var z = randn(batch, 4, 8, 8);
            var outs = GraphRun.Run(session, ("z_img", z));
            Assert.Equal(new long[] { batch, 64, 16 }, outs[0].shape);
            Assert.Equal(new long[] { batch, 4, 1, 1 }, outs[1].shape);
        }
    }

    [Fact]
    public void ShapeErrorsSurfaceWhenTheGraphIsWritten()
    {
        var g = new GraphBuilder("errors");
        var x = g.Input("x", ElementType.Float, "batch", 5, 6);
        var e = Assert.Throws<ArgumentException>(() => g.Linear("proj", x, 7, 4));
        Assert.Contains("proj", e.Message);
        Assert.Throws<ArgumentException>(() => g.Add(x, g.Constant(new float[4], 4)));
        Assert.Throws<ArgumentException>(() => g.Chunk(x, 4, -1));
        Assert.Throws<ArgumentException>(() => g.Reshape(x, 0, 7, -2));
        Assert.Throws<ArgumentException>(() => g.Add(x, g.Cast(x, ElementType.Int64)));
        Assert.Throws<ArgumentException>(() => g.Conv2d("conv", x, 5, 4, 3));
        Assert.Throws<ArgumentException>(() => new GraphBuilder("other").Relu(x));
        Assert.Throws<InvalidOperationException>(() => g.Build());
    }

    [Fact]
    public void ParametersCanBeReadSetAndLoadedByName()
    {
        var g = new GraphBuilder("params");
        var x = g.Input("x", ElementType.Float, "batch", 2);
        var y = g.Linear("fc", x, 2, 2);
        g.Output("y", y);

        g.SetParameter("fc.weight", new float[] { 1, 2, 3, 4 });
        Assert.Equal(new float[] { 1, 2, 3, 4 }, g.GetParameter("fc.weight"));
        using (var b = tensor(new float[] { 0.5f, -0.5f }))
            g.SetParameter("fc.bias", b);
        Assert.Throws<ArgumentException>(() => g.SetParameter("fc.weight", new float[] { 1, 2, 3 }));
        Assert.Throws<ArgumentException>(() => g.SetParameter("fc.nothing", new float[] { 1 }));
        using (var wrong = zeros(4))
            Assert.Throws<ArgumentException>(() => g.SetParameter("fc.weight", wrong));

        var model = g.Build();
        using (var session = GraphRun.Session(model))
        using (var input = tensor(new float[] { 1, 1 }).reshape(1, 2))
            GraphRun.AssertClose(tensor(new float[] { 3.5f, 6.5f }).reshape(1, 2), GraphRun.Run(session, ("x", input))[0]);

        // A fresh builder of the same network, other seed: loading restores the trained values.
        var g2 = new GraphBuilder("params", seed: 9);
        var x2 = g2.Input("x", ElementType.Float, "batch", 2);
        g2.Output("y", g2.Linear("fc", x2, 2, 2));
        Assert.NotEqual(g.GetParameter("fc.weight"), g2.GetParameter("fc.weight"));
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, g2.LoadParameters(model));
        Assert.Equal(g.GetParameter("fc.weight"), g2.GetParameter("fc.weight"));
        Assert.Equal(g.GetParameter("fc.bias"), g2.GetParameter("fc.bias"));

        var g3 = new GraphBuilder("params");
        var x3 = g3.Input("x", ElementType.Float, "batch", 2);
        g3.Output("y", g3.Linear("fc", x3, 2, 2, bias: false));
        g3.Parameter("extra", new long[] { 3 }, ParameterInit.Zeros);
        Assert.Throws<ArgumentException>(() => g3.LoadParameters(model));
        Assert.Equal(new[] { "fc.weight" }, g3.LoadParameters(model, strict: false));
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
}

/// <summary>Runs built graphs in ONNX Runtime and compares with TorchSharp references.</summary>
static class GraphRun
{
    public static InferenceSession Session(OnnxModel model) => new(model.Proto.ToByteArray());

    /// <summary>Runs the session; outputs in the graph's output order, as CPU tensors.</summary>
    public static Tensor[] Run(InferenceSession session, params (string Name, Tensor Value)[] inputs)
    {
        var feeds = inputs.Select(i => ToOrt(i.Name, i.Value)).ToList();
        using var results = session.Run(feeds);
        return results.Select(FromOrt).ToArray();
    }

    static NamedOnnxValue ToOrt(string name, Tensor t)
    {
        var dims = t.shape.Select(d => (int)d).ToArray();
        using var c = t.contiguous();
        return t.dtype switch
        {
            ScalarType.Float32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(c.data<float>().ToArray(), dims)),
            ScalarType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(c.data<long>().ToArray(), dims)),
            ScalarType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(c.data<int>().ToArray(), dims)),
            _ => throw new NotSupportedException(t.dtype.ToString()),
        };
    }

    static Tensor FromOrt(DisposableNamedOnnxValue v)
    {
        switch (v.Value)
        {
            case DenseTensor<float> f:
                return tensor(f.Buffer.ToArray()).reshape(f.Dimensions.ToArray().Select(d => (long)d).ToArray());
            case DenseTensor<long> l:
                return tensor(l.Buffer.ToArray()).reshape(l.Dimensions.ToArray().Select(d => (long)d).ToArray());
            default:
                throw new NotSupportedException(v.Value.GetType().Name);
        }
    }

    /// <summary>An initializer of the built model as a tensor (what ORT uses, read back independently).</summary>
    public static Tensor Param(OnnxModel model, string name) =>
        OnnxTensor.ToTorch(model.Graph.Initializer.Single(t => t.Name == name));

    public static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(diff <= tolerance, $"max abs diff {diff:E3} > {tolerance:E1}");
    }

    /// <summary>Runs a one-input model at batch 1 and 3 in one session and compares each with the reference.</summary>
    public static void CheckBatches(OnnxModel model, Func<int, Tensor> makeInput, Func<Tensor, Tensor> reference, double tolerance = 1e-5, string inputName = "x")
    {
        using var session = Session(model);
        foreach (int batch in new[] { 1, 3 })
        {
            using var scope = NewDisposeScope();
            var x = makeInput(batch);
            var actual = Run(session, (inputName, x))[0];
            AssertClose(reference(x), actual, tolerance);
        }
    }
}
