namespace Evlf.OnnxHybrid.Data;

/// <summary>Limits applied when decoding image files.</summary>
/// <param name="MaxPixels">
/// Largest width·height accepted, checked from the file header before any pixel is decoded, so a small
/// file that claims a huge canvas (a decompression bomb) is refused without allocating it. Default 64 megapixels.
/// </param>
public sealed record ImageDecodeOptions(long MaxPixels = ImageDecodeOptions.DefaultMaxPixels)
{
    /// <summary>64 megapixels: far above any dataset image, far below what exhausts memory (64 MP × 4 bytes = 256 MB).</summary>
    public const long DefaultMaxPixels = 64L * 1024 * 1024;

    public static ImageDecodeOptions Default { get; } = new();
}
