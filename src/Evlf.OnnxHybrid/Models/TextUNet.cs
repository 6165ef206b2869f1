using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Models;

/// <summary>
/// A text-conditioned ε-prediction UNet in the Stable Diffusion layout, at miniature size: ResNet blocks
/// with a timestep embedding, spatial transformers with self-attention and cross-attention on the text
/// encoder's token embeddings, one down/up level per entry of <see cref="Channels"/> after the first,
/// skip connections by concatenation.
/// </summary>
public sealed record TextUNetConfig(
    int LatentChannels = 4,
    int LatentSize = 8,
    int[]? Channels = null,
    int Heads = 4,
    int Groups = 8,
    int ContextDim = 384,
    int ContextLength = 16,
    int TimeEmbeddingDim = 256,
    double Dropout = 0)
{
    public int[] Widths => Channels ?? new[] { 64, 128 };
}

public static class TextUNet
{
    public const string SampleInput = "sample";
    public const string TimestepInput = "timestep";
    public const string ContextInput = "encoder_hidden_states";
    public const string NoiseOutput = "noise_pred";

    public static OnnxModel Build(TextUNetConfig c, int seed)
    {
        var g = new GraphBuilder("text_unet", seed);
        var x = g.Input(SampleInput, ElementType.Float, "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        var t = g.Input(TimestepInput, ElementType.Int64, "batch");
        var context = g.Input(ContextInput, ElementType.Float, "batch", c.ContextLength, c.ContextDim);
        var w = c.Widths;
        int temb = c.TimeEmbeddingDim;

        // SD: flip_sin_to_cos = true (cos first), freq shift 0, then Linear → SiLU → Linear.
        var tFreq = g.SinusoidalEmbedding(t, w[0], cosFirst: true);
        var emb = g.Linear("time_embedding.linear_2", g.Silu(g.Linear("time_embedding.linear_1", tFreq, w[0], temb)), temb, temb);

        var h = g.Conv2d("conv_in", x, c.LatentChannels, w[0], 3, padding: 1);
        var skips = new List<(Value Value, int Channels)> { (h, w[0]) };
        int side = c.LatentSize;
        for (int level = 0; level < w.Length; level++)
        {
            int inCh = level == 0 ? w[0] : w[level - 1];
            h = g.ResBlock($"down_blocks.{level}.resnets.0", h, inCh, w[level], c.Groups, emb, temb, c.Dropout);
            h = g.SpatialTransformer($"down_blocks.{level}.attentions.0", h, w[level], c.Heads, c.Groups, context, c.ContextDim, side);
            skips.Add((h, w[level]));
            if (level < w.Length - 1)
            {
                h = g.Downsample($"down_blocks.{level}.downsamplers.0", h, w[level]);
                side /= 2;
                skips.Add((h, w[level]));
            }
        }

        int top = w[^1];
        h = g.ResBlock("mid_block.resnets.0", h, top, top, c.Groups, emb, temb, c.Dropout);
        h = g.SpatialTransformer("mid_block.attentions.0", h, top, c.Heads, c.Groups, context, c.ContextDim, side);
        h = g.ResBlock("mid_block.resnets.1", h, top, top, c.Groups, emb, temb, c.Dropout);

        // Each up level has two ResBlocks (SD's layers_per_block + 1), each eating one skip: the down
        // path pushed conv_in, one per down ResBlock and one per downsampler, i.e. exactly 2 per level.
        int channels = top;
        for (int i = 0; i < w.Length; i++)
        {
            int level = w.Length - 1 - i;
            for (int r = 0; r < 2; r++)
            {
                var (skip, skipChannels) = skips[^1];
                skips.RemoveAt(skips.Count - 1);
                h = g.ResBlock($"up_blocks.{i}.resnets.{r}", g.Concat(1, h, skip), channels + skipChannels, w[level], c.Groups, emb, temb, c.Dropout);
                channels = w[level];
                h = g.SpatialTransformer($"up_blocks.{i}.attentions.{r}", h, channels, c.Heads, c.Groups, context, c.ContextDim, side);
            }
            if (level > 0)
            {
                h = g.Upsample($"up_blocks.{i}.upsamplers.0", h, channels);
                side *= 2;
            }
        }
        h = g.Silu(g.GroupNorm("conv_norm_out", h, c.Groups, channels));
        g.Output(NoiseOutput, g.Conv2d("conv_out", h, channels, c.LatentChannels, 3, padding: 1), "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        return g.Build();
    }
}
