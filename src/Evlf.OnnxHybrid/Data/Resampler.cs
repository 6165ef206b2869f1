namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Separable image resampling with PIL's semantics: a horizontal pass, then a vertical pass, each rounded to
/// 8 bits. Output pixel o samples the input around centre (o + ½)·scale with the filter stretched by the
/// scale when shrinking (so downscaling antialiases), taps cut at the border and the weights renormalised.
/// Written from that definition. The normalised weights are quantised to 22 fractional bits and summed in
/// integers, the precision PIL uses for 8-bit images, so results agree with PIL exactly (ties included).
/// </summary>
public static class Resampler
{
    /// <summary>
    /// Resizes <paramref name="image"/> to <paramref name="width"/>×<paramref name="height"/>. Returns the input
    /// instance itself when the size is unchanged.
    /// </summary>
    public static ByteImage Resize(ByteImage image, int width, int height, ResampleFilter filter)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Target size must be positive, got {width}x{height}.");
        var result = image;
        if (width != image.Width) result = Horizontal(result, width, filter);
        if (height != image.Height) result = Vertical(result, height, filter);
        return result;
    }

    /// <summary>The filter kernel k(x), for x in input-pixel units at scale 1.</summary>
    public static double Kernel(ResampleFilter filter, double x) => filter switch
    {
        ResampleFilter.Box => x > -0.5 && x <= 0.5 ? 1.0 : 0.0,
        ResampleFilter.Bilinear => Math.Abs(x) < 1.0 ? 1.0 - Math.Abs(x) : 0.0,
        ResampleFilter.Bicubic => Keys(Math.Abs(x), -0.5),
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    /// <summary>Half-width of the kernel's non-zero region at scale 1.</summary>
    public static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear => 1.0,
        ResampleFilter.Bicubic => 2.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter)),
    };

    // Keys (1981) cubic convolution kernel, |x| given.
    private static double Keys(double x, double a)
    {
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
        if (x < 2.0) return ((x - 5.0) * x + 8.0) * x * a - 4.0 * a;
        return 0.0;
    }

    private const int FractionBits = 22;

    /// <summary>Taps for one axis: output o reads inputs First[o] .. First[o]+Count[o]-1 with Weights[o·Stride + k] / 2²².</summary>
    private sealed record Taps(int[] First, int[] Count, int[] Weights, int Stride);

    private static Taps ComputeTaps(int inSize, int outSize, ResampleFilter filter)
    {
        double scale = (double)inSize / outSize;
        double stretch = Math.Max(scale, 1.0);
        double support = Support(filter) * stretch;
        int stride = (int)Math.Ceiling(support) * 2 + 1;
        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * stride];
        var w = new double[stride];
        for (int o = 0; o < outSize; o++)
        {
            double center = (o + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(center - support + 0.5));
            int hi = Math.Min(inSize, (int)Math.Floor(center + support + 0.5));
            double sum = 0;
            for (int i = lo; i < hi; i++) sum += w[i - lo] = Kernel(filter, (i + 0.5 - center) / stretch);
            for (int k = 0; k < hi - lo; k++)
            {
                double q = (sum != 0 ? w[k] / sum : w[k]) * (1 << FractionBits);
                weights[o * stride + k] = (int)(q < 0 ? q - 0.5 : q + 0.5);
            }
            first[o] = lo;
            count[o] = hi - lo;
        }
        return new Taps(first, count, weights, stride);
    }

    private const int Half = 1 << (FractionBits - 1);

    // acc holds value·2²² + ½·2²²; shift out the fraction (rounding half up) and clamp to 0..255.
    private static byte ToByte(int acc) => acc < 0 ? (byte)0 : acc >= 256 << FractionBits ? (byte)255 : (byte)(acc >> FractionBits);

    private static ByteImage Horizontal(ByteImage src, int outWidth, ResampleFilter filter)
    {
        var taps = ComputeTaps(src.Width, outWidth, filter);
        int h = src.Height, inW = src.Width, ch = src.Channels;
        var dst = new byte[h * outWidth * ch];
        var s = src.Pixels;
        for (int y = 0; y < h; y++)
        {
            int row = y * inW * ch, outRow = y * outWidth * ch;
            for (int o = 0; o < outWidth; o++)
            {
                int first = taps.First[o], n = taps.Count[o], wBase = o * taps.Stride;
                for (int c = 0; c < ch; c++)
                {
                    int acc = Half;
                    int p = row + first * ch + c;
                    for (int k = 0; k < n; k++, p += ch) acc += s[p] * taps.Weights[wBase + k];
                    dst[outRow + o * ch + c] = ToByte(acc);
                }
            }
        }
        return new ByteImage(h, outWidth, ch, dst);
    }

    private static ByteImage Vertical(ByteImage src, int outHeight, ResampleFilter filter)
    {
        var taps = ComputeTaps(src.Height, outHeight, filter);
        int rowLen = src.Width * src.Channels;
        var dst = new byte[outHeight * rowLen];
        var s = src.Pixels;
        var acc = new int[rowLen];
        for (int o = 0; o < outHeight; o++)
        {
            Array.Fill(acc, Half);
            int first = taps.First[o], n = taps.Count[o], wBase = o * taps.Stride;
            for (int k = 0; k < n; k++)
            {
                int w = taps.Weights[wBase + k];
                int p = (first + k) * rowLen;
                for (int i = 0; i < rowLen; i++) acc[i] += s[p + i] * w;
            }
            int q = o * rowLen;
            for (int i = 0; i < rowLen; i++) dst[q + i] = ToByte(acc[i]);
        }
        return new ByteImage(outHeight, src.Width, src.Channels, dst);
    }
}
