using Evlf.OnnxHybrid.Onnx;
using Google.Protobuf;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Parameter initialisation: PyTorch's default distributions, overrides, seeded determinism.</summary>
public class GraphBuilderInitTests
{
    static (double Mean, double Variance) Moments(float[] values)
    {
        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => (v - mean) * (v - mean));
        return (mean, variance);
    }

    static void AssertUniform(float[] values, double bound, double relativeVarianceTolerance = 0.03)
    {
        Assert.All(values, v => Assert.InRange(v, -bound - 1e-7, bound + 1e-7));
        var (mean, variance) = Moments(values);
        double expectedVariance = bound * bound / 3;
        Assert.InRange(variance, expectedVariance * (1 - relativeVarianceTolerance), expectedVariance * (1 + relativeVarianceTolerance));
        // The mean of n uniforms has standard deviation bound/√(3n); allow 5 of them.
        Assert.InRange(mean, -5 * bound / Math.Sqrt(3 * values.Length), 5 * bound / Math.Sqrt(3 * values.Length));
        // It really spreads over the interval, not a narrower one.
        Assert.True(values.Max() > 0.95 * bound && values.Min() < -0.95 * bound);
    }

    [Fact]
    public void LinearUsesKaimingUniformWithASqrt5()
    {
        var g = new GraphBuilder("init");
        var x = g.Input("x", ElementType.Float, "batch", 256);
        g.Linear("fc", x, 256, 128);
        var w = g.GetParameter("fc.weight");
        Assert.Equal(128 * 256, w.Length);
        AssertUniform(w, 1.0 / 16);
        var b = g.GetParameter("fc.bias");
        Assert.All(b, v => Assert.InRange(v, -1.0 / 16, 1.0 / 16));
        Assert.True(b.Distinct().Count() > 100, "bias values should be drawn, not constant");
        Assert.True(b.Max() > 0.5 / 16 && b.Min() < -0.5 / 16);
    }

    [Fact]
    public void Conv2dFanInCountsGroupsAndKernel()
    {
        var g = new GraphBuilder("init");
        var x = g.Input("x", ElementType.Float, "batch", 32, 8, 8);
        g.Conv2d("conv", x, 32, 64, 3, groups: 2, padding: 1);
        // fan_in = 32/2·3·3 = 144 → bound 1/12.
        AssertUniform(g.GetParameter("conv.weight"), 1.0 / 12);
        Assert.All(g.GetParameter("conv.bias"), v => Assert.InRange(v, -1.0 / 12, 1.0 / 12));
    }

    [Fact]
    public void NormsStartAtOneAndZero()
    {
        var g = new GraphBuilder("init");
        var x = g.Input("x", ElementType.Float, "batch", 8, 4, 4);
        var h = g.GroupNorm("gn", x, 4, 8);
        g.BatchNorm2d("bn", h, 8);
        var t = g.Input("t", ElementType.Float, "batch", 5, 6);
        g.LayerNorm("ln", t, 6);
        Assert.All(g.GetParameter("gn.weight"), v => Assert.Equal(1f, v));
        Assert.All(g.GetParameter("gn.bias"), v => Assert.Equal(0f, v));
        Assert.All(g.GetParameter("ln.weight"), v => Assert.Equal(1f, v));
        Assert.All(g.GetParameter("ln.bias"), v => Assert.Equal(0f, v));
        Assert.All(g.GetParameter("bn.running_var"), v => Assert.Equal(1f, v));
        Assert.All(g.GetParameter("bn.running_mean"), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MultiheadAttentionUsesXavierInProjectionAndZeroBiases()
    {
        var g = new GraphBuilder("init");
        var x = g.Input("x", ElementType.Float, "batch", 3, 64);
        g.MultiheadAttention("attn", x, x, x, 64, 4);
        // xavier_uniform on [3E, E]: bound √(6/(E+3E)).
        AssertUniform(g.GetParameter("attn.in_proj_weight"), Math.Sqrt(6.0 / (64 + 192)));
        Assert.All(g.GetParameter("attn.in_proj_bias"), v => Assert.Equal(0f, v));
        AssertUniform(g.GetParameter("attn.out_proj.weight"), 1.0 / 8, 0.05);
        Assert.All(g.GetParameter("attn.out_proj.bias"), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void EmbeddingIsStandardNormal()
    {
        var g = new GraphBuilder("init");
        var ids = g.Input("ids", ElementType.Int64, "batch");
        g.Embedding("table", ids, 100, 64);
        var (mean, variance) = Moments(g.GetParameter("table.weight"));
        Assert.InRange(mean, -0.06, 0.06);
        Assert.InRange(variance, 0.95, 1.05);
    }

    [Fact]
    public void OverridesReplaceTheDefaults()
    {
        var g = new GraphBuilder("init");
        var x = g.Input("x", ElementType.Float, "batch", 64);
        g.Linear("zero", x, 64, 32, weightInit: ParameterInit.Zeros, biasInit: ParameterInit.Ones);
        g.Linear("normal", x, 64, 200, weightInit: ParameterInit.Normal(0.02));
        g.Linear("uniform", x, 64, 100, weightInit: ParameterInit.Uniform(0.5));
        g.Linear("xavier", x, 64, 192, weightInit: ParameterInit.XavierUniform());
        g.Linear("fill", x, 64, 2, weightInit: ParameterInit.Fill(0.25f));
        g.Parameter("pos_embed", new long[] { 1, 2, 3 }, ParameterInit.Constant(new float[] { 1, 2, 3, 4, 5, 6 }));
        var c = g.Input("c", ElementType.Float, "batch", 16, 6, 6);
        // DiT's patch embedding: xavier as if flattened to [out, in·k·k] (fan_out = out, not out·k·k).
        g.Conv2d("patch", c, 16, 64, 2, stride: 2, weightInit: ParameterInit.XavierUniform(fanOut: 64));
        g.Conv2d("patch_default_fans", c, 16, 64, 2, stride: 2, weightInit: ParameterInit.XavierUniform());

        Assert.All(g.GetParameter("zero.weight"), v => Assert.Equal(0f, v));
        Assert.All(g.GetParameter("zero.bias"), v => Assert.Equal(1f, v));
        var (mean, variance) = Moments(g.GetParameter("normal.weight"));
        Assert.InRange(Math.Sqrt(variance), 0.02 * 0.97, 0.02 * 1.03);
        Assert.InRange(mean, -0.001, 0.001);
        AssertUniform(g.GetParameter("uniform.weight"), 0.5);
        AssertUniform(g.GetParameter("xavier.weight"), Math.Sqrt(6.0 / (64 + 192)));
        Assert.All(g.GetParameter("fill.weight"), v => Assert.Equal(0.25f, v));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, g.GetParameter("pos_embed"));
        AssertUniform(g.GetParameter("patch.weight"), Math.Sqrt(6.0 / (64 + 64)), 0.05);
        AssertUniform(g.GetParameter("patch_default_fans.weight"), Math.Sqrt(6.0 / (64 + 256)), 0.05);

        Assert.Throws<ArgumentException>(() => g.Parameter("short", new long[] { 4 }, ParameterInit.Constant(new float[] { 1, 2 })));
        Assert.Throws<ArgumentException>(() => g.Parameter("vector", new long[] { 4 }, ParameterInit.XavierUniform()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParameterInit.Normal(-1));
    }

    [Fact]
    public void InitializeRedrawsAnExistingParameter()
    {
        var g = new GraphBuilder("init");
        var x = g.Input("x", ElementType.Float, "batch", 16);
        g.Linear("adaLN_modulation.1", x, 16, 96);
        Assert.Contains(g.GetParameter("adaLN_modulation.1.weight"), v => v != 0);
        g.Initialize("adaLN_modulation.1.weight", ParameterInit.Zeros);
        g.Initialize("adaLN_modulation.1.bias", ParameterInit.Zeros);
        Assert.All(g.GetParameter("adaLN_modulation.1.weight"), v => Assert.Equal(0f, v));
        Assert.All(g.GetParameter("adaLN_modulation.1.bias"), v => Assert.Equal(0f, v));
    }

    static byte[] Network(int seed, bool extraLayerFirst = false)
    {
        var g = new GraphBuilder("net", seed);
        var x = g.Input("x", ElementType.Float, "batch", 4, 8, 8);
        if (extraLayerFirst) g.Conv2d("extra", x, 4, 4, 1);
        var h = g.Conv2d("conv", x, 4, 8, 3, padding: 1);
        h = g.GroupNorm("norm", h, 2, 8);
        var t = g.Transpose(g.Flatten(h, 2), 0, 2, 1);
        t = g.MultiheadAttention("attn", t, t, t, 8, 2);
        g.Output("y", g.Linear("head", t, 8, 3));
        var model = g.Build();
        var initializers = new global::Onnx.GraphProto();
        initializers.Initializer.AddRange(model.Graph.Initializer.Where(i => !i.Name.StartsWith("extra")));
        return initializers.ToByteArray();
    }

    [Fact]
    public void SameSeedSameBytesOtherSeedOtherValues()
    {
        Assert.Equal(Network(0), Network(0));
        Assert.NotEqual(Network(0), Network(1));
        // A parameter's values depend on its name, not on what was created before it.
        Assert.Equal(Network(7), Network(7, extraLayerFirst: true));
    }
}
