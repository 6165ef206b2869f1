using System.Numerics;
using System.Runtime.CompilerServices;

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
    private const int FractionBits = 22;
    private const int Half = 1 << (FractionBits - 1);

    /// <summary>
    /// Resizes <paramref name="image"/> to <paramref name="width"/>×<paramref name="height"/>. Returns the input
    /// instance itself when the size is unchanged.
    /// </summary>
    public static ByteImage Resize(ByteImage image, int width, int height, ResampleFilter filter)
    {
        if (width == image.Width && height == image.Height) return image;
        return ResizeWindow(image, width, height, filter, 0, 0, height, width);
    }

    /// <summary>
    /// The <paramref name="windowHeight"/>×<paramref name="windowWidth"/> window at (<paramref name="top"/>,
    /// <paramref name="left"/>) of <paramref name="image"/> resized to <paramref name="width"/>×<paramref name="height"/>,
    /// computing only the pixels of the window (and the intermediate rows they need). Equal, pixel for pixel,
    /// to cropping the full resize.
    /// </summary>
    public static ByteImage ResizeWindow(ByteImage image, int width, int height, ResampleFilter filter,
        int top, int left, int windowHeight, int windowWidth)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Target size must be positive, got {width}x{height}.");
        if (top < 0 || left < 0 || windowHeight <= 0 || windowWidth <= 0 || top + windowHeight > height || left + windowWidth > width)
            throw new ArgumentOutOfRangeException(nameof(top), $"Window {windowWidth}x{windowHeight} at ({left},{top}) does not fit a {width}x{height} resize.");

        // Input rows the vertical pass will read (all of the window's rows when there is no vertical pass).
        Taps? vertical = height != image.Height ? ComputeTaps(image.Height, height, filter) : null;
        int rowStart = top, rowEnd = top + windowHeight;
        if (vertical is not null)
        {
            rowStart = int.MaxValue;
            rowEnd = 0;
            for (int o = top; o < top + windowHeight; o++)
            {
                rowStart = Math.Min(rowStart, vertical.First[o]);
                rowEnd = Math.Max(rowEnd, vertical.First[o] + vertical.Count[o]);
            }
        }

        var rows = width != image.Width
            ? Horizontal(image, rowStart, rowEnd - rowStart, ComputeTaps(image.Width, width, filter), left, windowWidth)
            : ImageTransforms.Crop(image, rowStart, left, rowEnd - rowStart, windowWidth);
        return vertical is null ? rows : Vertical(rows, vertical, top, windowHeight, rowStart);
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

    // acc holds value·2²² + ½·2²²; shift out the fraction (rounding half up) and clamp to 0..255.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ToByte(int acc) => acc < 0 ? (byte)0 : acc >= 256 << FractionBits ? (byte)255 : (byte)(acc >> FractionBits);

    // Rows rowStart..rowStart+rowCount-1 of src, output columns outStart..outStart+outCount-1.
    // The inner loops use pointers: this is the hot path of every dataset pass (ADM crop of each image).
    private static unsafe ByteImage Horizontal(ByteImage src, int rowStart, int rowCount, Taps taps, int outStart, int outCount)
    {
        int inW = src.Width, ch = src.Channels, stride = taps.Stride;
        var dst = new byte[rowCount * outCount * ch];
        fixed (byte* s0 = src.Pixels, d0 = dst)
        fixed (int* first = taps.First, count = taps.Count, weights = taps.Weights)
        {
            for (int y = 0; y < rowCount; y++)
            {
                byte* row = s0 + (long)(rowStart + y) * inW * ch, d = d0 + (long)y * outCount * ch;
                for (int o = outStart; o < outStart + outCount; o++)
                {
                    byte* p = row + first[o] * ch;
                    int* w = weights + o * stride;
                    int n = count[o];
                    if (ch == 3)
                    {
                        int a0 = Half, a1 = Half, a2 = Half;
                        for (int k = 0; k < n; k++, p += 3)
                        {
                            int wk = w[k];
                            a0 += p[0] * wk;
                            a1 += p[1] * wk;
                            a2 += p[2] * wk;
                        }
                        *d++ = ToByte(a0);
                        *d++ = ToByte(a1);
                        *d++ = ToByte(a2);
                    }
                    else
                    {
                        int a = Half;
                        for (int k = 0; k < n; k++) a += p[k] * w[k];
                        *d++ = ToByte(a);
                    }
                }
            }
        }
        return new ByteImage(rowCount, outCount, ch, dst);
    }

    // Output rows outStart..outStart+outCount-1; src row r holds input row r + srcRowOffset.
    private static unsafe ByteImage Vertical(ByteImage src, Taps taps, int outStart, int outCount, int srcRowOffset)
    {
        int rowLen = src.Width * src.Channels, stride = taps.Stride;
        var dst = new byte[outCount * rowLen];
        var acc = new int[rowLen];
        int lanes = Vector<byte>.Count, vectorEnd = Vector.IsHardwareAccelerated ? rowLen - rowLen % lanes : 0;
        fixed (byte* s0 = src.Pixels, d0 = dst)
        fixed (int* a = acc, first = taps.First, count = taps.Count, weights = taps.Weights)
        {
            for (int o = 0; o < outCount; o++)
            {
                new Span<int>(a, rowLen).Fill(Half);
                int n = count[outStart + o];
                int* w = weights + (outStart + o) * stride;
                for (int k = 0; k < n; k++)
                {
                    int wk = w[k];
                    byte* p = s0 + (long)(first[outStart + o] + k - srcRowOffset) * rowLen;
                    var wv = new Vector<int>(wk);
                    int i = 0;
                    for (; i < vectorEnd; i += lanes)
                    {
                        // 32 (or 16) bytes widened to four int vectors, multiplied and accumulated.
                        Vector.Widen(Unsafe.ReadUnaligned<Vector<byte>>(p + i), out Vector<ushort> lo, out Vector<ushort> hi);
                        Vector.Widen(lo, out Vector<uint> q0, out Vector<uint> q1);
                        Vector.Widen(hi, out Vector<uint> q2, out Vector<uint> q3);
                        int* ai = a + i;
                        int quarter = Vector<int>.Count;
                        Unsafe.WriteUnaligned(ai, Unsafe.ReadUnaligned<Vector<int>>(ai) + Vector.AsVectorInt32(q0) * wv);
                        Unsafe.WriteUnaligned(ai + quarter, Unsafe.ReadUnaligned<Vector<int>>(ai + quarter) + Vector.AsVectorInt32(q1) * wv);
                        Unsafe.WriteUnaligned(ai + 2 * quarter, Unsafe.ReadUnaligned<Vector<int>>(ai + 2 * quarter) + Vector.AsVectorInt32(q2) * wv);
                        Unsafe.WriteUnaligned(ai + 3 * quarter, Unsafe.ReadUnaligned<Vector<int>>(ai + 3 * quarter) + Vector.AsVectorInt32(q3) * wv);
                    }
                    for (; i < rowLen; i++) a[i] += p[i] * wk;
                }
                byte* d = d0 + (long)o * rowLen;
                for (int i = 0; i < rowLen; i++) d[i] = ToByte(a[i]);
            }
        }
        return new ByteImage(outCount, src.Width, src.Channels, dst);
    }
}
