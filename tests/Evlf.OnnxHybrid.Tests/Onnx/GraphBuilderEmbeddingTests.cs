using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Embeddings: a label table against torch's Embedding, the sinusoidal timestep embedding against the PyTorch recipe.</summary>
public class GraphBuilderEmbeddingTests : OneLayerGraphTest
{
    [Fact]
    public void EmbeddingMatchesTorchEmbedding()
    {
        var model = OneLayer((g, ids) => g.Embedding("y_embedder.embedding_table", ids, 10, 6), ElementType.Int64, 4);
        var table = GraphRun.Param(model, "y_embedder.embedding_table.weight");
        Assert.Equal(new long[] { 10, 6 }, table.shape);
        using var embedding = nn.Embedding_from_pretrained(table);
        GraphRun.CheckBatches(model, n => randint(0, 10, new long[] { n, 4 }, dtype: ScalarType.Int64, generator: InputGenerator), ids => embedding.call(ids), tolerance: 0);
    }

    /// <summary>
    /// The PyTorch recipe (DiT's TimestepEmbedder.timestep_embedding / diffusers' get_timestep_embedding) computed in
    /// `dtype`: float32 is what PyTorch computes, float64 the exact math the float32 graph approximates.
    /// </summary>
    static Tensor TimestepEmbedding(Tensor t, int dim, bool cosFirst, double maxPeriod, double shift, ScalarType dtype)
    {
        int half = dim / 2;
        var freqs = exp(arange(0, half, dtype: dtype) * -Math.Log(maxPeriod) / (half - shift));
        var args = t.to(dtype).unsqueeze(1) * freqs.unsqueeze(0);
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
            GraphRun.AssertClose(TimestepEmbedding(ts, dim, cosFirst, 10000, shift, ScalarType.Float32), actual);
            // Against exact math, only float32 rounding of t·freq (≤ ~1e-4 for t < 1000) separates them.
            GraphRun.AssertClose(TimestepEmbedding(ts, dim, cosFirst, 10000, shift, ScalarType.Float64), actual, 2e-4);
        }
    }
}
