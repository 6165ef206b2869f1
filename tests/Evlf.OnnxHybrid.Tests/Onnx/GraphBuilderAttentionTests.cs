using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Attention layers against torch's modules and attention by hand: nn.MultiheadAttention, SD cross-attention, DiT's packed qkv, SDPA.</summary>
public class GraphBuilderAttentionTests : OneLayerGraphTest
{
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
}
