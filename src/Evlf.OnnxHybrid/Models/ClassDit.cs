using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Models;

/// <summary>
/// A class-conditional Diffusion Transformer with adaLN-Zero blocks and learned-range variance, as DiT
/// (docs/PIPELINES.md §1) at miniature size: 2×2 patches of a 4×8×8 latent → 16 tokens, fixed 2-D sin-cos
/// position table, c = t_emb + y_emb, output 2·C channels (ε, v). The label table has one extra row,
/// the null class, for classifier-free guidance.
/// </summary>
public sealed record ClassDitConfig(
    int LatentChannels = 4,
    int LatentSize = 8,
    int Patch = 2,
    int Hidden = 192,
    int Depth = 6,
    int Heads = 6,
    double MlpRatio = 4,
    int Classes = 10,
    int FrequencyDim = 256,
    bool LearnSigma = true)
{
    public int Tokens => (LatentSize / Patch) * (LatentSize / Patch);
    public int OutChannels => LearnSigma ? 2 * LatentChannels : LatentChannels;
    public int NullClass => Classes;
}

public static class ClassDit
{
    public const string LatentInput = "x";
    public const string TimestepInput = "t";
    public const string LabelInput = "y";
    public const string Output = "out";

    public static OnnxModel Build(ClassDitConfig c, int seed)
    {
        var g = new GraphBuilder("class_dit", seed);
        var x = g.Input(LatentInput, ElementType.Float, "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        var t = g.Input(TimestepInput, ElementType.Int64, "batch");
        var y = g.Input(LabelInput, ElementType.Int64, "batch");
        int d = c.Hidden, grid = c.LatentSize / c.Patch;
        // DiT's initialize_weights: Linear layers xavier-uniform with zero bias; patch conv xavier as if
        // flattened; label table and timestep MLP N(0, 0.02); adaLN modulation and the final layer zero.
        var xavier = ParameterInit.XavierUniform();
        var zeros = ParameterInit.Zeros;

        var patches = g.Conv2d("x_embedder.proj", x, c.LatentChannels, d, c.Patch, stride: c.Patch,
            weightInit: ParameterInit.XavierUniform(fanIn: c.LatentChannels * c.Patch * c.Patch, fanOut: d), biasInit: zeros);
        var tokens = g.Transpose(g.Flatten(patches, 2), 0, 2, 1);                               // (N, T, d)
        var pos = g.Parameter("pos_embed", new long[] { 1, c.Tokens, d }, ParameterInit.Constant(SinCosTable(d, grid)), trainable: false);
        tokens = g.Add(tokens, pos);

        var tFreq = g.SinusoidalEmbedding(t, c.FrequencyDim, cosFirst: true);
        var tEmb = g.Linear("t_embedder.mlp.2", g.Silu(g.Linear("t_embedder.mlp.0", tFreq, c.FrequencyDim, d, weightInit: ParameterInit.Normal(0.02), biasInit: zeros)),
            d, d, weightInit: ParameterInit.Normal(0.02), biasInit: zeros);
        var yEmb = g.Embedding("y_embedder.embedding_table", y, c.Classes + 1, d, ParameterInit.Normal(0.02));
        var cond = g.Silu(g.Add(tEmb, yEmb));

        int hidden = (int)(d * c.MlpRatio);
        for (int i = 0; i < c.Depth; i++)
        {
            using (g.Scope($"blocks.{i}"))
            {
                var mod = g.Chunk(g.Linear("adaLN_modulation.1", cond, d, 6 * d, weightInit: zeros, biasInit: zeros), 6, 1);
                Value Modulate(Value v, Value shift, Value scale) =>
                    g.Add(g.Mul(v, g.Add(g.Unsqueeze(scale, 1), 1.0)), g.Unsqueeze(shift, 1));
                var a = g.Attention("attn", Modulate(g.LayerNorm("norm1", tokens, d, eps: 1e-6, affine: false), mod[0], mod[1]), d, c.Heads,
                    options: AttentionOptions.DiT with { WeightInit = xavier, BiasInit = zeros });
                tokens = g.Add(tokens, g.Mul(g.Unsqueeze(mod[2], 1), a));
                var m = Modulate(g.LayerNorm("norm2", tokens, d, eps: 1e-6, affine: false), mod[3], mod[4]);
                m = g.Linear("mlp.fc2", g.Gelu(g.Linear("mlp.fc1", m, d, hidden, weightInit: xavier, biasInit: zeros), GeluApproximation.Tanh), hidden, d, weightInit: xavier, biasInit: zeros);
                tokens = g.Add(tokens, g.Mul(g.Unsqueeze(mod[5], 1), m));
            }
        }

        using (g.Scope("final_layer"))
        {
            var mod = g.Chunk(g.Linear("adaLN_modulation.1", cond, d, 2 * d, weightInit: zeros, biasInit: zeros), 2, 1);
            var h = g.Add(g.Mul(g.LayerNorm("norm_final", tokens, d, eps: 1e-6, affine: false), g.Add(g.Unsqueeze(mod[1], 1), 1.0)), g.Unsqueeze(mod[0], 1));
            tokens = g.Linear("linear", h, d, c.Patch * c.Patch * c.OutChannels, weightInit: zeros, biasInit: zeros);
        }

        // Unpatchify: (N, h·w, p·p·C) → (N, h, w, p, q, C) → (N, C, h, p, w, q) → (N, C, H, W).
        var u = g.Reshape(tokens, 0, grid, grid, c.Patch, c.Patch, c.OutChannels);
        u = g.Transpose(u, 0, 5, 1, 3, 2, 4);
        g.Output(Output, g.Reshape(u, 0, c.OutChannels, c.LatentSize, c.LatentSize), "batch", c.OutChannels, c.LatentSize, c.LatentSize);
        return g.Build();
    }

    /// <summary>
    /// DiT's fixed 2-D sin-cos position table (MAE's get_2d_sincos_pos_embed): the first half of the
    /// channels encode the column (w) coordinate, the second half the row (h); each half is
    /// [sin(pos·ω), cos(pos·ω)] with ω_k = 1/10000^(k/(D/4)).
    /// </summary>
    public static float[] SinCosTable(int dim, int grid)
    {
        if (dim % 4 != 0) throw new ArgumentException($"DiT position table: hidden size {dim} must be divisible by 4.");
        var table = new float[grid * grid * dim];
        int quarter = dim / 4;
        for (int r = 0; r < grid; r++)
            for (int col = 0; col < grid; col++)
            {
                int token = r * grid + col;
                for (int k = 0; k < quarter; k++)
                {
                    double omega = 1.0 / Math.Pow(10000, (double)k / quarter);
                    // MAE meshgrid(w, h): emb_h uses grid[0] = w coordinate, emb_w uses grid[1] = h coordinate.
                    table[token * dim + k] = (float)Math.Sin(col * omega);
                    table[token * dim + quarter + k] = (float)Math.Cos(col * omega);
                    table[token * dim + 2 * quarter + k] = (float)Math.Sin(r * omega);
                    table[token * dim + 3 * quarter + k] = (float)Math.Cos(r * omega);
                }
            }
        return table;
    }
}
