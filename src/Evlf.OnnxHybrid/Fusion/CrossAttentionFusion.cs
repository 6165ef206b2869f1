using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Fusion;

/// <summary>
/// Builds EVLF's fusion module, z_fused = F(z_img, e_text), and the latent projector P(z) used by the
/// InfoNCE loss, as ONNX graphs with GraphBuilder (the importer trains them, ONNX Runtime runs the fusion
/// in the fuse stage).
/// </summary>
public static class CrossAttentionFusion
{
    public const string LatentInput = "z_img";
    public const string TextInput = "e_text";
    public const string FusedOutput = "z_fused";
    public const string ProjectorInput = "z";
    public const string ProjectorOutput = "embedding";

    /// <summary>
    /// 1×1 conv → tokens + learned position table (N(0,1)) → text projection → N layers of attention with the image
    /// tokens as queries over [image tokens; text tokens] → FFN → back to a grid → 1×1 conv. No residual to z_img.
    /// </summary>
    public static OnnxModel Build(FusionConfig c, int seed)
    {
        var g = new GraphBuilder("evlf_fusion", seed);
        var z = g.Input(LatentInput, ElementType.Float, "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        var text = g.Input(TextInput, ElementType.Float, "batch", c.TextLength, c.TextDim);
        int d = c.Width;

        var x = g.Transpose(g.Flatten(g.Conv2d("latent_proj", z, c.LatentChannels, d, 1), 2), 0, 2, 1);    // (N, HW, d)
        x = g.Add(x, g.Parameter("pos_embed", new long[] { 1, c.Tokens, d }, ParameterInit.Normal(1)));
        var t = g.Linear("text_proj", text, c.TextDim, d);
        var kv = g.Concat(1, x, t);                                                                     // computed once
        for (int i = 0; i < c.Layers; i++)
        {
            using (g.Scope($"layers.{i}"))
            {
                if (c.RefreshKeyValues && i > 0) kv = g.Concat(1, x, t);
                if (c.PreNorm)
                {
                    var q = g.LayerNorm("norm1", x, d);
                    x = g.Add(x, g.Dropout(g.MultiheadAttention("attn", q, kv, kv, d, c.Heads, dropout: c.Dropout), c.Dropout));
                    x = g.Add(x, Ffn(g, g.LayerNorm("norm2", x, d), d, c.Dropout));
                }
                else
                {
                    x = g.LayerNorm("norm1", g.Add(x, g.Dropout(g.MultiheadAttention("attn", x, kv, kv, d, c.Heads, dropout: c.Dropout), c.Dropout)), d);
                    x = g.LayerNorm("norm2", g.Add(x, Ffn(g, x, d, c.Dropout)), d);
                }
            }
        }
        var grid = g.Reshape(g.Transpose(x, 0, 2, 1), 0, d, c.LatentSize, c.LatentSize);
        g.Output(FusedOutput, g.Conv2d("out_proj", grid, d, c.LatentChannels, 1), "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        return g.Build();
    }

    static Value Ffn(GraphBuilder g, Value x, int d, double dropout)
    {
        var h = g.Dropout(g.Relu(g.Linear("ffn.0", x, d, 2 * d)), dropout);
        return g.Dropout(g.Linear("ffn.3", h, 2 * d, d), dropout);
    }

    /// <summary>
    /// Conv (kernel = stride = <see cref="FusionConfig.ProjectorKernel"/>) → adaptive average pool to P×P →
    /// flatten → Linear to the text width → LayerNorm. The adaptive pool follows PyTorch: averaging when the
    /// grid is a multiple of P, repeating cells when P is a multiple of the grid (small latents).
    /// </summary>
    public static OnnxModel BuildProjector(FusionConfig c, int seed)
    {
        var g = new GraphBuilder("evlf_projector", seed);
        var z = g.Input(ProjectorInput, ElementType.Float, "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        int k = c.ProjectorKernel, p = c.ProjectorPool;
        int side = c.LatentSize / k;
        if (side < 1) throw new ArgumentException($"Projector: latent side {c.LatentSize} is smaller than its kernel {k}.");
        var h = g.Conv2d("conv", z, c.LatentChannels, c.ProjectorChannels, k, stride: k);
        if (side % p == 0) h = side == p ? h : g.AdaptiveAvgPool2d(h, p, p);
        else if (p % side == 0) h = g.UpsampleNearest(h, p / side);
        else throw new ArgumentException($"Projector: adaptive pool from {side}×{side} to {p}×{p} needs one side to divide the other.");
        var flat = g.Flatten(h, 1);
        var e = g.LayerNorm("norm", g.Linear("fc", flat, c.ProjectorChannels * p * p, c.TextDim), c.TextDim);
        g.Output(ProjectorOutput, e, "batch", c.TextDim);
        return g.Build();
    }
}
