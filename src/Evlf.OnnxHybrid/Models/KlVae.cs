using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Models;

/// <summary>
/// A KL-regularised autoencoder in the LDM layout, at miniature size. Defaults: Fashion-MNIST padded to
/// 32×32×1 in [−1, 1] ↔ latents 4×8×8 (two down levels).
/// </summary>
/// <param name="ImageChannels">Channels of the input and reconstructed image.</param>
/// <param name="ImageSize">Side of the square image in pixels.</param>
/// <param name="LatentChannels">Channels of the latent (the encoder outputs a mean and a log-variance of this many each).</param>
/// <param name="Channels">Width of each level, finest first; the number of levels minus one is the number of ×2 downsamplings.</param>
/// <param name="ResBlocksPerLevel">Residual blocks per encoder level (the decoder has one more per level, as in LDM).</param>
/// <param name="Groups">GroupNorm groups in every block.</param>
public sealed record KlVaeConfig(
    int ImageChannels = 1,
    int ImageSize = 32,
    int LatentChannels = 4,
    int[]? Channels = null,
    int ResBlocksPerLevel = 1,
    int Groups = 8)
{
    public int[] Widths => Channels ?? new[] { 32, 64, 128 };
    public int LatentSize => ImageSize >> (Widths.Length - 1);
}

/// <summary>Builds the encoder (image → posterior mean and log-variance) and decoder (latent → image) graphs.</summary>
public static class KlVae
{
    public const string ImageInput = "image";
    public const string MeanOutput = "mean";
    public const string LogVarOutput = "logvar";
    public const string LatentInput = "latent";
    public const string ImageOutput = "image";

    public static OnnxModel BuildEncoder(KlVaeConfig c, int seed)
    {
        var g = new GraphBuilder("vae_encoder", seed);
        var x = g.Input(ImageInput, ElementType.Float, "batch", c.ImageChannels, c.ImageSize, c.ImageSize);
        var w = c.Widths;
        var h = g.Conv2d("encoder.conv_in", x, c.ImageChannels, w[0], 3, padding: 1);
        int side = c.ImageSize;
        for (int level = 0; level < w.Length; level++)
        {
            int inCh = level == 0 ? w[0] : w[level - 1];
            for (int r = 0; r < c.ResBlocksPerLevel; r++)
                h = g.ResBlock($"encoder.down_blocks.{level}.resnets.{r}", h, r == 0 ? inCh : w[level], w[level], c.Groups);
            if (level < w.Length - 1)
            {
                h = g.Downsample($"encoder.down_blocks.{level}.downsamplers.0", h, w[level]);
                side /= 2;
            }
        }
        int top = w[^1];
        h = g.ResBlock("encoder.mid_block.resnets.0", h, top, top, c.Groups);
        h = g.SpatialSelfAttention("encoder.mid_block.attentions.0", h, top, c.Groups, side);
        h = g.ResBlock("encoder.mid_block.resnets.1", h, top, top, c.Groups);
        h = g.Conv2d("encoder.conv_out", g.Silu(g.GroupNorm("encoder.conv_norm_out", h, c.Groups, top, eps: 1e-6)), top, 2 * c.LatentChannels, 3, padding: 1);
        var moments = g.Conv2d("quant_conv", h, 2 * c.LatentChannels, 2 * c.LatentChannels, 1);
        var parts = g.Chunk(moments, 2, 1);
        g.Output(MeanOutput, parts[0], "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        g.Output(LogVarOutput, parts[1], "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        return g.Build();
    }

    public static OnnxModel BuildDecoder(KlVaeConfig c, int seed)
    {
        var g = new GraphBuilder("vae_decoder", seed);
        var z = g.Input(LatentInput, ElementType.Float, "batch", c.LatentChannels, c.LatentSize, c.LatentSize);
        var w = c.Widths;
        int top = w[^1];
        var h = g.Conv2d("post_quant_conv", z, c.LatentChannels, c.LatentChannels, 1);
        h = g.Conv2d("decoder.conv_in", h, c.LatentChannels, top, 3, padding: 1);
        int side = c.LatentSize;
        h = g.ResBlock("decoder.mid_block.resnets.0", h, top, top, c.Groups);
        h = g.SpatialSelfAttention("decoder.mid_block.attentions.0", h, top, c.Groups, side);
        h = g.ResBlock("decoder.mid_block.resnets.1", h, top, top, c.Groups);
        for (int i = 0; i < w.Length; i++)
        {
            int level = w.Length - 1 - i;
            int inCh = i == 0 ? top : w[level + 1];
            for (int r = 0; r < c.ResBlocksPerLevel + 1; r++)
                h = g.ResBlock($"decoder.up_blocks.{i}.resnets.{r}", h, r == 0 ? inCh : w[level], w[level], c.Groups);
            if (level > 0)
            {
                h = g.Upsample($"decoder.up_blocks.{i}.upsamplers.0", h, w[level]);
                side *= 2;
            }
        }
        h = g.Silu(g.GroupNorm("decoder.conv_norm_out", h, c.Groups, w[0], eps: 1e-6));
        g.Output(ImageOutput, g.Conv2d("decoder.conv_out", h, w[0], c.ImageChannels, 3, padding: 1), "batch", c.ImageChannels, c.ImageSize, c.ImageSize);
        return g.Build();
    }
}
