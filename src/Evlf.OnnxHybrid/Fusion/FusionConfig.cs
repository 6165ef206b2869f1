namespace Evlf.OnnxHybrid.Fusion;

/// <summary>
/// The EVLF cross-attention fusion module and latent projector (docs/PIPELINES.md §2). Defaults are the
/// released code's: width 256, 4 heads, 2 layers, dropout 0.1, keys/values computed once from
/// [image tokens; text tokens] before the layers (never refreshed), post-norm, FFN 2× with ReLU.
/// </summary>
/// <param name="LatentChannels">Channels C of the VAE latent z_img (and of z_fused).</param>
/// <param name="LatentSize">Side of the square latent grid; the fusion attends over LatentSize² image tokens.</param>
/// <param name="TextDim">Width D of the text-encoder token embeddings e_text, and of the projector's output embedding.</param>
/// <param name="TextLength">Text tokens L per prompt.</param>
/// <param name="Width">Model width d of the attention layers.</param>
/// <param name="Heads">Attention heads per layer.</param>
/// <param name="Layers">Cross-attention layers.</param>
/// <param name="Dropout">Dropout probability on the attention weights, the attention output and the FFN.</param>
/// <param name="RefreshKeyValues">Rebuild KV = [x; text] before every layer instead of once (a named divergence from the released code).</param>
/// <param name="PreNorm">LN before attention/FFN instead of after the residual (released code: post-norm).</param>
/// <param name="ProjectorChannels">Projector conv width (released: 64, kernel 4 stride 4, then adaptive pool to 4×4).</param>
/// <param name="ProjectorKernel">Kernel size and stride of the projector conv.</param>
/// <param name="ProjectorPool">Side P of the projector's adaptive average pool (P×P cells before the Linear).</param>
public sealed record FusionConfig(
    int LatentChannels = 4,
    int LatentSize = 8,
    int TextDim = 384,
    int TextLength = 16,
    int Width = 256,
    int Heads = 4,
    int Layers = 2,
    double Dropout = 0.1,
    bool RefreshKeyValues = false,
    bool PreNorm = false,
    int ProjectorChannels = 64,
    int ProjectorKernel = 4,
    int ProjectorPool = 4)
{
    public int Tokens => LatentSize * LatentSize;
}
