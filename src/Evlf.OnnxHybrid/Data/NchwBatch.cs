namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// A float32 batch in NCHW order (what ONNX Runtime and TorchSharp take): element (n, c, y, x) is at
/// ((n·C + c)·H + y)·W + x.
/// </summary>
public sealed class NchwBatch
{
    public NchwBatch(int n, int channels, int height, int width)
        : this(new float[checked(n * channels * height * width)], n, channels, height, width) { }

    public NchwBatch(float[] data, int n, int channels, int height, int width)
    {
        if ((long)n * channels * height * width != data.Length)
            throw new ArgumentException($"Expected {(long)n * channels * height * width} floats for {n}x{channels}x{height}x{width}, got {data.Length}.");
        Data = data;
        N = n;
        Channels = channels;
        Height = height;
        Width = width;
    }

    public float[] Data { get; }
    public int N { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>The shape as [N, C, H, W].</summary>
    public long[] Shape => [N, Channels, Height, Width];

    /// <summary>The floats of sample <paramref name="n"/> (C·H·W of them).</summary>
    public Span<float> Sample(int n) => Data.AsSpan(n * Channels * Height * Width, Channels * Height * Width);

    /// <summary>Stacks equally sized images, normalising each pixel.</summary>
    public static NchwBatch FromImages(IReadOnlyList<ByteImage> images, Normalization normalization)
    {
        if (images.Count == 0) throw new ArgumentException("A batch needs at least one image.", nameof(images));
        var first = images[0];
        var batch = new NchwBatch(images.Count, first.Channels, first.Height, first.Width);
        for (int n = 0; n < images.Count; n++)
        {
            var img = images[n];
            if (img.Height != first.Height || img.Width != first.Width || img.Channels != first.Channels)
                throw new ArgumentException($"Image {n} is {img} but image 0 is {first}; a batch needs equal sizes.", nameof(images));
            WriteChw(img, normalization, batch.Sample(n));
        }
        return batch;
    }

    /// <summary>Writes one image as C×H×W floats into <paramref name="destination"/>.</summary>
    public static void WriteChw(ByteImage image, Normalization normalization, Span<float> destination)
    {
        int ch = image.Channels, plane = image.Height * image.Width;
        if (destination.Length != ch * plane)
            throw new ArgumentException($"Destination holds {destination.Length} floats, a {image} image needs {ch * plane}.", nameof(destination));
        normalization.CheckChannels(ch);
        var px = image.Pixels;
        for (int c = 0; c < ch; c++)
        {
            var table = normalization.TableFor(c);
            var dst = destination.Slice(c * plane, plane);
            for (int i = 0, p = c; i < plane; i++, p += ch) dst[i] = table[px[p]];
        }
    }
}
