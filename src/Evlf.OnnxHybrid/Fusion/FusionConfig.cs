namespace Evlf.OnnxHybrid.Fusion;

/// <summary>
/// The EVLF cross-attention fusion module and latent projector (PIPELINES.md §2). Defaults are the
/// released code's: width 256, 4 heads, 2 layers, dropout 0.1, keys/values computed once from
/// [image tokens; text tokens] before the layers (never refreshed), post-norm, FFN 2× with ReLU.
/// </summary>
/// <param name="RefreshKeyValues">Rebuild KV = [x; text] before every layer instead of once (a named divergence from the released code).</param>
/// <param name="PreNorm">LN before attention/FFN instead of after the residual (released code: post-norm).</param>
/// <param name="ProjectorChannels">Projector conv width (released: 64, kernel 4 stride 4, then adaptive pool to 4×4).</param>
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
