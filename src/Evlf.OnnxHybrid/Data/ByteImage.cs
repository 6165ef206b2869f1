namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// An 8-bit image stored height × width × channels (HWC, row-major), the layout PIL and numpy use.
/// Channels is 1 (grayscale) or 3 (RGB).
/// </summary>
public sealed class ByteImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied); its length must be height·width·channels.</summary>
    public ByteImage(int height, int width, int channels, byte[] pixels)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"Image size must be positive, got {width}x{height}.");
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be 1 or 3, got {channels}.");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)height * width * channels)
            throw new ArgumentException($"Expected {(long)height * width * channels} bytes for {width}x{height}x{channels}, got {pixels.Length}.", nameof(pixels));
        Height = height;
        Width = width;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>A zero-filled image.</summary>
    public ByteImage(int height, int width, int channels) : this(height, width, channels, new byte[checked(height * width * channels)]) { }

    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }

    /// <summary>The pixel bytes, HWC.</summary>
    public byte[] Pixels { get; }

    public byte this[int y, int x, int c]
    {
        get => Pixels[(y * Width + x) * Channels + c];
        set => Pixels[(y * Width + x) * Channels + c] = value;
    }

    /// <summary>
    /// The same image with <paramref name="channels"/> channels: gray is repeated into R, G and B; RGB becomes
    /// luma with ITU-R 601-2 weights, L = (299 R + 587 G + 114 B) / 1000, as PIL's <c>convert("L")</c>.
    /// Returns this instance when nothing changes.
    /// </summary>
    public ByteImage WithChannels(int channels)
    {
        if (channels == Channels) return this;
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be 1 or 3, got {channels}.");
        int n = Height * Width;
        var dst = new byte[n * channels];
        if (channels == 3)
        {
            for (int i = 0; i < n; i++) dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = Pixels[i];
        }
        else
        {
            for (int i = 0; i < n; i++) dst[i] = Luma(Pixels[3 * i], Pixels[3 * i + 1], Pixels[3 * i + 2]);
        }
        return new ByteImage(Height, Width, channels, dst);
    }

    /// <summary>ITU-R 601-2 luma in 16-bit fixed point (the weights sum to exactly 65536, so gray stays gray).</summary>
    internal static byte Luma(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);

    public override string ToString() => $"{Width}x{Height}x{Channels}";
}
