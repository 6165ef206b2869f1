using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Models;

/// <summary>
/// The building blocks shared by the default bundle's KL-VAE and UNet, written with GraphBuilder in the
/// LDM / Stable Diffusion layout (parameter names follow diffusers: <c>norm1</c>, <c>conv1</c>,
/// <c>time_emb_proj</c>, <c>conv_shortcut</c>, <c>to_q</c>…).
/// </summary>
public static class LatentDiffusionBlocks
{
    /// <summary>
    /// ResNet block: GN → SiLU → conv3×3 (+ projected time embedding) → GN → SiLU → dropout → conv3×3,
    /// plus a 1×1 shortcut when the width changes.
    /// </summary>
    public static Value ResBlock(this GraphBuilder g, string name, Value x, int inChannels, int outChannels, int groups,
        Value? timeEmbedding = null, int timeEmbeddingDim = 0, double dropout = 0)
    {
        using (g.Scope(name))
        {
            var h = g.Conv2d("conv1", g.Silu(g.GroupNorm("norm1", x, groups, inChannels)), inChannels, outChannels, 3, padding: 1);
            if (timeEmbedding is { } t)
            {
                var tp = g.Linear("time_emb_proj", g.Silu(t), timeEmbeddingDim, outChannels);
                h = g.Add(h, g.Unsqueeze(tp, 2, 3));
            }
            h = g.Silu(g.GroupNorm("norm2", h, groups, outChannels));
            if (dropout > 0) h = g.Dropout(h, dropout);
            h = g.Conv2d("conv2", h, outChannels, outChannels, 3, padding: 1);
            var skip = inChannels == outChannels ? x : g.Conv2d("conv_shortcut", x, inChannels, outChannels, 1);
            return g.Add(skip, h);
        }
    }

    /// <summary>Stride-2 3×3 convolution (halves the side).</summary>
    public static Value Downsample(this GraphBuilder g, string name, Value x, int channels) =>
        g.Conv2d(name + ".conv", x, channels, channels, 3, stride: 2, padding: 1);

    /// <summary>Nearest ×2 then 3×3 convolution (doubles the side).</summary>
    public static Value Upsample(this GraphBuilder g, string name, Value x, int channels) =>
        g.Conv2d(name + ".conv", g.UpsampleNearest(x, 2), channels, channels, 3, padding: 1);

    /// <summary>VAE mid-block attention: one head over the H·W positions, GN first, residual.</summary>
    public static Value SpatialSelfAttention(this GraphBuilder g, string name, Value x, int channels, int groups, int side)
    {
        using (g.Scope(name))
        {
            var h = g.GroupNorm("group_norm", x, groups, channels);
            var tokens = g.Transpose(g.Flatten(h, 2), 0, 2, 1);                          // (N, HW, C)
            var attended = g.Attention("attn", tokens, channels, 1, options: AttentionOptions.StableDiffusion with { QkvBias = true });
            var back = g.Reshape(g.Transpose(attended, 0, 2, 1), 0, channels, side, side);
            return g.Add(x, back);
        }
    }

    /// <summary>
    /// SD's spatial transformer: GN → 1×1 proj_in → tokens → [LN → self-attn] → [LN → cross-attn over
    /// the context] → [LN → GEGLU feed-forward] → proj_out → residual.
    /// </summary>
    public static Value SpatialTransformer(this GraphBuilder g, string name, Value x, int channels, int heads, int groups,
        Value context, int contextDim, int side)
    {
        using (g.Scope(name))
        {
            var h = g.Conv2d("proj_in", g.GroupNorm("norm", x, groups, channels, eps: 1e-6), channels, channels, 1);
            var tokens = g.Transpose(g.Flatten(h, 2), 0, 2, 1);
            using (g.Scope("transformer_blocks.0"))
            {
                tokens = g.Add(tokens, g.Attention("attn1", g.LayerNorm("norm1", tokens, channels), channels, heads));
                tokens = g.Add(tokens, g.Attention("attn2", g.LayerNorm("norm2", tokens, channels), channels, heads, context,
                    AttentionOptions.StableDiffusion with { ContextDim = contextDim }));
                var ff = g.Linear("ff.net.0.proj", g.LayerNorm("norm3", tokens, channels), channels, 8 * channels);
                var parts = g.Chunk(ff, 2, -1);
                tokens = g.Add(tokens, g.Linear("ff.net.2", g.Mul(parts[0], g.Gelu(parts[1])), 4 * channels, channels));
            }
            var grid = g.Reshape(g.Transpose(tokens, 0, 2, 1), 0, channels, side, side);
            return g.Add(x, g.Conv2d("proj_out", grid, channels, channels, 1));
        }
    }
}
