using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>
/// Each layer as a one-layer graph in ONNX Runtime vs TorchSharp's functional op on the same weights,
/// read back from the graph's initializers; batch 1 and 3 in one session.
/// </summary>
public class GraphBuilderLayerTests
{
    // xunit makes one instance per test: every test draws the same inputs on every run.
    readonly Generator generator = new(20240601);

    Tensor Randn(params long[] shape) => randn(shape, generator: generator);

    static OnnxModel OneLayer(Func<GraphBuilder, Value, Value> layer, params Dim[] dims) =>
        OneLayer(layer, ElementType.Float, dims);

    static OnnxModel OneLayer(Func<GraphBuilder, Value, Value> layer, ElementType type, params Dim[] dims)
    {
        var g = new GraphBuilder("layer", seed: 3);
        var x = g.Input("x", type, new Dim[] { "batch" }.Concat(dims).ToArray());
        g.Output("y", layer(g, x));
        return g.Build();
    }

    /// <summary>Replaces every parameter with N(0,1)-ish values so that ones/zeros defaults cannot hide a wrong Mul/Add.</summary>
    void Randomize(GraphBuilder g)
    {
        foreach (var p in g.Parameters)
        {
            using var r = Randn(p.Shape.ToArray()) * 0.5;
            g.SetParameter(p.Name, r);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LinearMatchesFunctionalLinearOnRank2And3(bool bias)
    {
        foreach (var dims in new[] { new Dim[] { 6 }, new Dim[] { 5, 6 } })
        {
            var model = OneLayer((g, x) => g.Linear("fc", x, 6, 4, bias), dims);
            var w = GraphRun.Param(model, "fc.weight");
            Tensor? b = bias ? GraphRun.Param(model, "fc.bias") : null;
            Assert.Equal(new long[] { 4, 6 }, w.shape);
            Assert.Equal(bias ? 2 : 1, model.Graph.Initializer.Count);
            GraphRun.CheckBatches(model,
                n => Randn(new long[] { n }.Concat(dims.Select(d => d.Size!.Value)).ToArray()),
                x => F.linear(x, w, b));
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void GemmMatchesMatMulPlusBiasInBothExecutors(bool transB, bool bias)
    {
        var model = OneLayer((g, x) =>
        {
            var w = g.Parameter("w", transB ? new long[] { 4, 6 } : new long[] { 6, 4 }, ParameterInit.Normal(1));
            return g.Gemm(x, w, bias ? g.Parameter("b", new long[] { 4 }, ParameterInit.Normal(1)) : null, transB);
        }, 6);
        var w = GraphRun.Param(model, "w");
        Tensor? b = bias ? GraphRun.Param(model, "b") : null;
        GraphRun.CheckBatches(model, n => Randn(n, 6), x => (transB ? x.matmul(w.t()) : x.matmul(w)) + (b ?? zeros(4)));
        var diffs = ParityCheck.Run(model, RandomInputs.For(model, seed: 1, batch: 5));
        Assert.True(diffs.Single().MaxAbsDiff < 1e-5, $"{diffs.Single().MaxAbsDiff:E2}");
        Assert.Equal(new long[] { 5, 4 }, diffs.Single().Shape);
    }

    [Theory]
    [InlineData(4, 6, 3, 2, 1, 1, 2, true)]
    [InlineData(3, 4, 3, 1, 2, 2, 1, false)]
    [InlineData(4, 8, 1, 1, 0, 1, 1, true)]
    [InlineData(4, 4, 4, 4, 0, 1, 4, true)]
    public void Conv2dMatchesFunctionalConv2d(int inC, int outC, int k, int stride, int padding, int dilation, int groups, bool bias)
    {
        var model = OneLayer((g, x) => g.Conv2d("conv", x, inC, outC, k, stride, padding, dilation, groups, bias), inC, 9, 8);
        var w = GraphRun.Param(model, "conv.weight");
        Assert.Equal(new long[] { outC, inC / groups, k, k }, w.shape);
        Tensor? b = bias ? GraphRun.Param(model, "conv.bias") : null;
        GraphRun.CheckBatches(model, n => Randn(n, inC, 9, 8),
            x => F.conv2d(x, w, b, new long[] { stride, stride }, new long[] { padding, padding }, new long[] { dilation, dilation }, groups));
    }

    [Theory]
    [InlineData(3, 6, true, 4)]
    [InlineData(2, 6, false, 4)]
    [InlineData(6, 6, true, 4)]
    [InlineData(2, 4, true, 3)]
    public void GroupNormMatchesFunctionalGroupNorm(int groups, int channels, bool affine, int rank)
    {
        var g = new GraphBuilder("gn");
        var spatial = rank == 4 ? new Dim[] { 5, 4 } : new Dim[] { 7 };
        var x = g.Input("x", ElementType.Float, new Dim[] { "batch", channels }.Concat(spatial).ToArray());
        g.Output("y", g.GroupNorm("norm", x, groups, channels, eps: 1e-5, affine: affine));
        Assert.Equal(affine ? 2 : 0, g.Parameters.Count);
        Randomize(g);
        var model = g.Build();
        Assert.Contains(model.Graph.Node, n => n.OpType == "InstanceNormalization");
        Tensor? w = affine ? GraphRun.Param(model, "norm.weight") : null;
        Tensor? b = affine ? GraphRun.Param(model, "norm.bias") : null;
        GraphRun.CheckBatches(model,
            n => Randn(new long[] { n, channels }.Concat(spatial.Select(d => d.Size!.Value)).ToArray()) * 2 + 0.5,
            x => F.group_norm(x, groups, w, b, 1e-5));
    }

    [Theory]
    [InlineData(true, 1e-5)]
    [InlineData(false, 1e-6)]
    public void LayerNormMatchesFunctionalLayerNorm(bool affine, double eps)
    {
        var g = new GraphBuilder("ln");
        var x = g.Input("x", ElementType.Float, "batch", 5, 8);
        g.Output("y", g.LayerNorm("norm", x, 8, eps, affine));
        Randomize(g);
        var model = g.Build();
        Assert.Equal(affine ? 2 : 0, model.Graph.Initializer.Count);
        Tensor? w = affine ? GraphRun.Param(model, "norm.weight") : null;
        Tensor? b = affine ? GraphRun.Param(model, "norm.bias") : null;
        GraphRun.CheckBatches(model, n => Randn(n, 5, 8) * 3 - 1, x => F.layer_norm(x, new long[] { 8 }, w, b, eps));
    }

    [Fact]
    public void BatchNormMatchesFunctionalBatchNormInEvalMode()
    {
        var g = new GraphBuilder("bn");
        var x = g.Input("x", ElementType.Float, "batch", 3, 4, 4);
        g.Output("y", g.BatchNorm2d("bn", x, 3));
        Randomize(g);
        using (var positive = rand(new long[] { 3 }, generator: generator) + 0.5) g.SetParameter("bn.running_var", positive);
        var model = g.Build();
        var p = (string n) => GraphRun.Param(model, "bn." + n);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 4, 4),
            x => F.batch_norm(x, p("running_mean"), p("running_var"), p("weight"), p("bias"), training: false, eps: 1e-5));
    }

    [Fact]
    public void MultiheadAttentionMatchesTorchMultiheadAttention()
    {
        // Self-attention, cross-attention, attention over a concatenation [x; ctx], kdim/vdim ≠ E, and a mask.
        var cases = new (string Name, Func<GraphBuilder, Value, Value, Value, Value> Build, Func<Tensor, Tensor, (Tensor Q, Tensor K, Tensor V)> Kv, long? Kdim, long? Vdim)[]
        {
            ("self", (g, x, c, m) => g.MultiheadAttention("attn", x, x, x, 8, 2), (x, c) => (x, x, x), null, null),
            ("cross", (g, x, c, m) => g.MultiheadAttention("attn", x, c, c, 8, 2, dropout: 0.1), (x, c) => (x, c, c), null, null),
            ("concat", (g, x, c, m) => { var kv = g.Concat(1, x, c); return g.MultiheadAttention("attn", x, kv, kv, 8, 2); }, (x, c) => (x, cat(new[] { x, c }, 1), cat(new[] { x, c }, 1)), null, null),
            ("masked", (g, x, c, m) => g.MultiheadAttention("attn", x, c, c, 8, 4, attnMask: m), (x, c) => (x, c, c), null, null),
        };
        foreach (var (name, build, kv, _, _) in cases)
        {
            var g = new GraphBuilder("mha-" + name, seed: 11);
            var x = g.Input("x", ElementType.Float, "batch", 3, 8);
            var c = g.Input("ctx", ElementType.Float, "batch", 5, 8);
            var mask = g.Input("mask", ElementType.Float, 3, 5);
            g.Output("y", build(g, x, c, mask));
            Randomize(g);   // non-zero biases everywhere
            var model = g.Build();

            long heads = name == "masked" ? 4 : 2;
            using var mha = nn.MultiheadAttention(8, heads);
            CopyInto(mha, model, "attn.");
            mha.eval();
            using var session = GraphRun.Session(model);
            using var maskValues = tensor(new float[] { 0, -1e4f, 0, 0, -1e4f, 0, 0, -2, -1e4f, 0, -1e4f, -1e4f, 0, 1, 0 }).reshape(3, 5);
            foreach (int batch in new[] { 1, 3 })
            {
                using var scope = NewDisposeScope();
                var xs = Randn(batch, 3, 8);
                var cs = Randn(batch, 5, 8);
                var actual = GraphRun.Run(session, ("x", xs), ("ctx", cs), ("mask", maskValues))[0];
                var (q, k, v) = kv(xs, cs);
                // TorchSharp's module is sequence-first: (L, N, E).
                var expected = mha.call(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), null, false, name == "masked" ? maskValues : null).Item1.transpose(0, 1);
                GraphRun.AssertClose(expected, actual);
            }
        }
    }

    [Theory]
    [InlineData(6, 6)]
    [InlineData(6, 10)]
    public void MultiheadAttentionWithOtherKeyAndValueWidthsMatchesTorch(int kdim, int vdim)
    {
        var g = new GraphBuilder("mha-kdim", seed: 5);
        var x = g.Input("x", ElementType.Float, "batch", 3, 8);
        var k = g.Input("k", ElementType.Float, "batch", 4, kdim);
        var v = g.Input("v", ElementType.Float, "batch", 4, vdim);
        g.Output("y", g.MultiheadAttention("attn", x, k, v, 8, 2, kdim: kdim, vdim: vdim));
        Assert.Equal(new[] { "attn.q_proj_weight", "attn.k_proj_weight", "attn.v_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias" },
            g.Parameters.Select(p => p.Name));
        Assert.Equal(new long[] { 8, vdim }, g.Parameters[2].Shape);
        Randomize(g);
        var model = g.Build();
        var p = (string n) => GraphRun.Param(model, "attn." + n);
        // libtorch's C++ MultiheadAttention needs key and value of one width; Python's does not. Compare with
        // the module where it can run, and always with attention by hand on the same weights.
        using var mha = kdim == vdim ? nn.MultiheadAttention(8, 2, kdim: kdim, vdim: vdim) : null;
        if (mha is not null)
        {
            CopyInto(mha, model, "attn.");
            mha.eval();
        }
        using var session = GraphRun.Session(model);
        foreach (int batch in new[] { 1, 3 })
        {
            using var scope = NewDisposeScope();
            var (xs, ks, vs) = (Randn(batch, 3, 8), Randn(batch, 4, kdim), Randn(batch, 4, vdim));
            var actual = GraphRun.Run(session, ("x", xs), ("k", ks), ("v", vs))[0];
            var b = p("in_proj_bias").chunk(3);
            var byHand = AttentionByHand(F.linear(xs, p("q_proj_weight"), b[0]), F.linear(ks, p("k_proj_weight"), b[1]), F.linear(vs, p("v_proj_weight"), b[2]), 2,
                o => F.linear(o, p("out_proj.weight"), p("out_proj.bias")));
            GraphRun.AssertClose(byHand, actual);
            if (mha is not null)
                GraphRun.AssertClose(mha.call(xs.transpose(0, 1), ks.transpose(0, 1), vs.transpose(0, 1), null, false, null).Item1.transpose(0, 1), actual);
        }
    }

    /// <summary>Copies the graph's initializers into a TorchSharp module by PyTorch state-dict name; every module parameter must exist in the graph.</summary>
    static void CopyInto(nn.Module module, OnnxModel model, string prefix)
    {
        var names = module.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(names.Order(), model.Graph.Initializer.Select(t => t.Name[prefix.Length..]).Order());
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
            p.copy_(GraphRun.Param(model, prefix + name));
    }

    /// <summary>Attention by hand: linear projections, heads, softmax(q·kᵀ/√d)·v, output projection.</summary>
    static Tensor AttentionByHand(Tensor q, Tensor k, Tensor v, long heads, Func<Tensor, Tensor> outProj)
    {
        long n = q.shape[0], lq = q.shape[1], lk = k.shape[1], inner = q.shape[2], d = inner / heads;
        var qh = q.view(n, lq, heads, d).transpose(1, 2);
        var kh = k.view(n, lk, heads, d).transpose(1, 2);
        var vh = v.view(n, lk, heads, d).transpose(1, 2);
        var p = F.softmax(matmul(qh, kh.transpose(-2, -1)) / Math.Sqrt(d), -1);
        var o = matmul(p, vh).transpose(1, 2).reshape(n, lq, inner);
        var viaSdpa = F.scaled_dot_product_attention(qh, kh, vh).transpose(1, 2).reshape(n, lq, inner);
        GraphRun.AssertClose(viaSdpa, o);
        return outProj(o);
    }

    [Fact]
    public void StableDiffusionCrossAttentionMatchesByHand()
    {
        var g = new GraphBuilder("sd-attn");
        var x = g.Input("x", ElementType.Float, "batch", 6, 8);
        var ctx = g.Input("ctx", ElementType.Float, "batch", 4, 12);
        var options = AttentionOptions.StableDiffusion with { HeadDim = 3, ContextDim = 12 };
        g.Output("y", g.Attention("attn2", x, 8, heads: 2, context: ctx, options: options));
        Assert.Equal(new[] { "attn2.to_q.weight", "attn2.to_k.weight", "attn2.to_v.weight", "attn2.to_out.0.weight", "attn2.to_out.0.bias" },
            g.Parameters.Select(p => p.Name));
        Assert.Equal(new long[] { 6, 12 }, g.Parameters[1].Shape);
        var model = g.Build();
        var p = (string n) => GraphRun.Param(model, "attn2." + n);
        using var session = GraphRun.Session(model);
        foreach (int batch in new[] { 1, 3 })
        {
            using var scope = NewDisposeScope();
            var (xs, cs) = (Randn(batch, 6, 8), Randn(batch, 4, 12));
            var actual = GraphRun.Run(session, ("x", xs), ("ctx", cs))[0];
            var expected = AttentionByHand(F.linear(xs, p("to_q.weight")), F.linear(cs, p("to_k.weight")), F.linear(cs, p("to_v.weight")), 2,
                o => F.linear(o, p("to_out.0.weight"), p("to_out.0.bias")));
            GraphRun.AssertClose(expected, actual);
        }
    }

    [Fact]
    public void DiTPackedSelfAttentionMatchesByHand()
    {
        var g = new GraphBuilder("dit-attn");
        var x = g.Input("x", ElementType.Float, "batch", 5, 8);
        g.Output("y", g.Attention("attn", x, 8, heads: 4, options: AttentionOptions.DiT));
        Assert.Equal(new[] { "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias" }, g.Parameters.Select(p => p.Name));
        var model = g.Build();
        var p = (string n) => GraphRun.Param(model, "attn." + n);
        GraphRun.CheckBatches(model, n => Randn(n, 5, 8), xs =>
        {
            // timm: qkv(x).reshape(B, N, 3, heads, d) — q, k, v are consecutive thirds of the features.
            var qkv = F.linear(xs, p("qkv.weight"), p("qkv.bias")).chunk(3, -1);
            return AttentionByHand(qkv[0], qkv[1], qkv[2], 4, o => F.linear(o, p("proj.weight"), p("proj.bias")));
        });
    }

    [Fact]
    public void ScaledDotProductAttentionMatchesTorchSdpa()
    {
        var g = new GraphBuilder("sdpa");
        var q = g.Input("q", ElementType.Float, "batch", 3, 8);
        var k = g.Input("k", ElementType.Float, "batch", 7, 8);
        var v = g.Input("v", ElementType.Float, "batch", 7, 4);
        g.Output("y", g.ScaledDotProductAttention(q, k, v, heads: 2));
        using var session = GraphRun.Session(g.Build());
        foreach (int batch in new[] { 1, 3 })
        {
            using var scope = NewDisposeScope();
            var (qs, ks, vs) = (Randn(batch, 3, 8), Randn(batch, 7, 8), Randn(batch, 7, 4));
            var actual = GraphRun.Run(session, ("q", qs), ("k", ks), ("v", vs))[0];
            Tensor Heads(Tensor t) => t.view(batch, t.shape[1], 2, -1).transpose(1, 2);
            var expected = F.scaled_dot_product_attention(Heads(qs), Heads(ks), Heads(vs)).transpose(1, 2).reshape(batch, 3, 4);
            GraphRun.AssertClose(expected, actual);
        }
    }

    [Fact]
    public void ActivationsMatchFunctionalOps()
    {
        var cases = new (string Name, Func<GraphBuilder, Value, Value> Build, Func<Tensor, Tensor> Reference)[]
        {
            ("relu", (g, x) => g.Relu(x), x => F.relu(x)),
            ("silu", (g, x) => g.Silu(x), x => F.silu(x)),
            ("gelu", (g, x) => g.Gelu(x), x => F.gelu(x)),
            ("gelu-tanh", (g, x) => g.Gelu(x, GeluApproximation.Tanh), x => F.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh)),
            ("sigmoid", (g, x) => g.Sigmoid(x), x => x.sigmoid()),
            ("tanh", (g, x) => g.Tanh(x), x => x.tanh()),
        };
        foreach (var (name, build, reference) in cases)
        {
            var model = OneLayer(build, 4, 5);
            Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Gelu" or "Silu");
            GraphRun.CheckBatches(model, n => Randn(n, 4, 5) * 3, reference);
        }
        // The two GELUs differ, so each test above pins its own formula.
        using var probe = tensor(new float[] { -2.5f, 1.7f });
        Assert.True((F.gelu(probe) - F.gelu(probe, TorchSharp.Modules.GELU.Approximate.tanh)).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void DropoutIsIdentityInInferenceAndCarriesItsRatio()
    {
        var model = OneLayer((g, x) => g.Dropout(x, 0.3), 4, 5);
        var dropout = Assert.Single(model.Graph.Node, n => n.OpType == "Dropout");
        var ratio = model.Graph.Node.Single(n => n.Output[0] == dropout.Input[1]);
        Assert.Equal("Constant", ratio.OpType);
        Assert.Equal(0.3f, OnnxTensor.ToFloats(ratio.Attribute[0].T)[0]);
        Assert.Single(dropout.Output);
        GraphRun.CheckBatches(model, n => Randn(n, 4, 5), x => x, tolerance: 0);

        var none = OneLayer((g, x) => g.Relu(g.Dropout(x, 0)), 4);
        Assert.DoesNotContain(none.Graph.Node, n => n.OpType == "Dropout");
        Assert.Throws<ArgumentOutOfRangeException>(() => OneLayer((g, x) => g.Dropout(x, 1), 4));
    }

    [Fact]
    public void TrainingDropoutDrawsFromTheModulesGeneratorWhenGiven()
    {
        using var scope = NewDisposeScope();
        using var module = OnnxTorchModule.FromModel(OneLayer((g, x) => g.Dropout(x, 0.5), 1000));
        module.train();
        var x = ones(2, 1000);
        using var generator = new Generator(0);
        module.RandomGenerator = generator;
        generator.manual_seed(42);
        var first = module.Run(x)[0];
        rand(1000);   // other work drawing from the global generator in between
        generator.manual_seed(42);
        var second = module.Run(x)[0];
        Assert.True(first.eq(second).all().item<bool>());
        // Inverted dropout: kept entries scaled by 1/(1−p), about half of them kept.
        Assert.True(first.eq(0).logical_or(first.eq(2)).all().item<bool>());
        double kept = first.eq(2).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(kept, 0.45, 0.55);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UpsampleNearestMatchesInterpolate(int factor)
    {
        var model = OneLayer((g, x) => g.UpsampleNearest(x, factor), 2, 3, 4);
        var resize = Assert.Single(model.Graph.Node, n => n.OpType == "Resize");
        Assert.Equal("asymmetric", resize.Attribute.Single(a => a.Name == "coordinate_transformation_mode").S.ToStringUtf8());
        GraphRun.CheckBatches(model, n => Randn(n, 2, 3, 4),
            x => F.interpolate(x, scale_factor: new double[] { factor, factor }, mode: InterpolationMode.Nearest), tolerance: 0);
    }

    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(2, 2, 0)]
    [InlineData(3, 1, 1)]
    public void AvgPool2dMatchesFunctionalAvgPool(int kernel, int stride, int padding)
    {
        var model = OneLayer((g, x) => g.AvgPool2d(x, kernel, stride, padding), 3, 7, 6);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 7, 6),
            x => F.avg_pool2d(x, new long[] { kernel, kernel }, new long[] { stride, stride }, new long[] { padding, padding }));
    }

    [Theory]
    [InlineData(4, 3)]
    [InlineData(2, 2)]
    [InlineData(1, 1)]
    [InlineData(8, 6)]
    public void AdaptiveAvgPool2dMatchesFunctional(int oh, int ow)
    {
        var model = OneLayer((g, x) => g.AdaptiveAvgPool2d(x, oh, ow), 3, 8, 6);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 8, 6), x => F.adaptive_avg_pool2d(x, new long[] { oh, ow }));
    }

    [Fact]
    public void AdaptiveAvgPoolNeedsKnownDivisibleSizeButGlobalPoolDoesNot()
    {
        Assert.Throws<ArgumentException>(() => OneLayer((g, x) => g.AdaptiveAvgPool2d(x, 3, 3), 3, 8, 6));
        Assert.Throws<ArgumentException>(() => OneLayer((g, x) => g.AdaptiveAvgPool2d(x, 2, 2), 3, "h", "w"));
        var model = OneLayer((g, x) => g.AdaptiveAvgPool2d(x, 1, 1), 3, "h", "w");
        using var session = GraphRun.Session(model);
        foreach (var (h, w) in new[] { (5, 7), (2, 3) })
        {
            using var x = Randn(2, 3, h, w);
            GraphRun.AssertClose(F.adaptive_avg_pool2d(x, new long[] { 1, 1 }), GraphRun.Run(session, ("x", x))[0]);
        }
        var global = OneLayer((g, x) => g.GlobalAvgPool(x), 3, "h", "w");
        GraphRun.CheckBatches(global, n => Randn(n, 3, 4, 5), x => x.mean(new long[] { 2, 3 }, keepdim: true));
    }

    [Fact]
    public void EmbeddingMatchesTorchEmbedding()
    {
        var model = OneLayer((g, ids) => g.Embedding("y_embedder.embedding_table", ids, 10, 6), ElementType.Int64, 4);
        var table = GraphRun.Param(model, "y_embedder.embedding_table.weight");
        Assert.Equal(new long[] { 10, 6 }, table.shape);
        using var embedding = nn.Embedding_from_pretrained(table);
        GraphRun.CheckBatches(model, n => randint(0, 10, new long[] { n, 4 }, dtype: ScalarType.Int64, generator: generator), ids => embedding.call(ids), tolerance: 0);
    }

    /// <summary>The PyTorch recipe (DiT's TimestepEmbedder.timestep_embedding / diffusers' get_timestep_embedding), float32.</summary>
    static Tensor TimestepReference(Tensor t, int dim, bool cosFirst, double maxPeriod, double shift)
    {
        int half = dim / 2;
        var freqs = exp(arange(0, half, dtype: ScalarType.Float32) * -Math.Log(maxPeriod) / (half - shift));
        var args = t.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = cosFirst ? cat(new[] { cos(args), sin(args) }, -1) : cat(new[] { sin(args), cos(args) }, -1);
        if (dim % 2 == 1) emb = cat(new[] { emb, zeros_like(emb[.., ..1]) }, -1);
        return emb;
    }

    /// <summary>The same formula in float64: what the float32 graph approximates.</summary>
    static Tensor TimestepExact(Tensor t, int dim, bool cosFirst, double maxPeriod, double shift)
    {
        int half = dim / 2;
        var freqs = exp(arange(0, half, dtype: ScalarType.Float64) * -Math.Log(maxPeriod) / (half - shift));
        var args = t.to(ScalarType.Float64).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = cosFirst ? cat(new[] { cos(args), sin(args) }, -1) : cat(new[] { sin(args), cos(args) }, -1);
        if (dim % 2 == 1) emb = cat(new[] { emb, zeros_like(emb[.., ..1]) }, -1);
        return emb;
    }

    [Theory]
    [InlineData(16, true, 0.0, ElementType.Int64)]     // DiT: cos first
    [InlineData(16, false, 1.0, ElementType.Int64)]    // diffusers defaults: sin first, downscale_freq_shift 1
    [InlineData(16, true, 0.0, ElementType.Float)]     // SD 1.x UNet: flip_sin_to_cos, shift 0; float timesteps
    [InlineData(7, true, 0.0, ElementType.Int32)]      // odd: zero column
    public void SinusoidalEmbeddingMatchesTheTorchRecipe(int dim, bool cosFirst, double shift, ElementType type)
    {
        var g = new GraphBuilder("t-emb");
        var t = g.Input("t", type, "batch");
        g.Output("emb", g.SinusoidalEmbedding(t, dim, cosFirst, 10000, shift));
        var model = g.Build();
        Assert.Empty(model.Graph.Initializer);
        using var session = GraphRun.Session(model);
        foreach (var steps in new[] { new[] { 999.0 }, new[] { 0.0, 20.0, 541.0 } })
        {
            using var scope = NewDisposeScope();
            var ts = type switch
            {
                ElementType.Int64 => tensor(steps.Select(s => (long)s).ToArray()),
                ElementType.Int32 => tensor(steps.Select(s => (int)s).ToArray()),
                _ => tensor(steps.Select(s => (float)s + 0.25f).ToArray()),
            };
            var actual = GraphRun.Run(session, ("t", ts))[0];
            Assert.Equal(new long[] { steps.Length, dim }, actual.shape);
            GraphRun.AssertClose(TimestepReference(ts, dim, cosFirst, 10000, shift), actual);
            // Against exact math, only float32 rounding of t·freq (≤ ~1e-4 for t < 1000) separates them.
            GraphRun.AssertClose(TimestepExact(ts, dim, cosFirst, 10000, shift), actual, 2e-4);
        }
    }
}
