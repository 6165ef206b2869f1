using Evlf.OnnxHybrid.Clustering;
using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>
/// The feature space of the fidelity metrics and the scatter figure: an image becomes the vector of its pixels
/// scaled to [−1, 1] (x/127.5 − 1, every channel, H·W·C values), projected on the top P principal components
/// (P = 64 by default) of the real reference images. A fixed, training-free space: the same real images give the
/// same space for every run, so scores of different runs compare. The real images' first size fixes the space's
/// size, shrunk so its longer side is at most <see cref="DefaultMaxSide"/> (Fashion-MNIST and CIFAR keep their full
/// resolution; a 224-pixel ImageNet image becomes 32×32×3 = 3072 values); every image is converted to the space's
/// channels and resized to its size (PIL-style bilinear) where it differs, as <c>evlf eval</c> resizes synthetic images.
/// Components are ordered by variance, so the first two columns are the 2-D PCA of the same data.
/// </summary>
public sealed class PixelPcaFeatures : IDisposable
{
    /// <summary>P when not given.</summary>
    public const int DefaultComponents = 64;

    /// <summary>The longest image side the space keeps; larger images are shrunk to fit.</summary>
    public const int DefaultMaxSide = 32;

    readonly Pca pca;

    PixelPcaFeatures(Pca pca, int height, int width, int channels, int fittedOn)
    {
        this.pca = pca;
        Height = height;
        Width = width;
        Channels = channels;
        FittedOn = fittedOn;
    }

    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }

    /// <summary>Number of real images the components were fitted on.</summary>
    public int FittedOn { get; }

    /// <summary>P, the feature dimension.</summary>
    public int Dimensions => pca.ComponentCount;

    /// <summary>Each component's share of the real pixels' variance (P), a new tensor.</summary>
    public Tensor ExplainedVarianceRatio() => pca.ExplainedVarianceRatio.clone();

    /// <summary>
    /// Fits P = min(<paramref name="components"/>, N, H·W·C) principal components to <paramref name="real"/> (N ≥ 2),
    /// whose first image fixes the channels and, shrunk to <paramref name="maxSide"/>, the size of the space.
    /// </summary>
    public static PixelPcaFeatures Fit(IReadOnlyList<ByteImage> real, int components = DefaultComponents, int seed = 0, int maxSide = DefaultMaxSide)
    {
        if (real.Count < 2) throw new ArgumentException($"PCA features need at least 2 real images; got {real.Count}.", nameof(real));
        if (components < 1) throw new ArgumentException($"Components must be 1 or more; got {components}.", nameof(components));
        if (maxSide < 1) throw new ArgumentException($"The largest side must be 1 or more; got {maxSide}.", nameof(maxSide));
        var first = real[0];
        int side = Math.Max(first.Height, first.Width);
        int height = side > maxSide ? Math.Max(1, (int)Math.Round(first.Height * (double)maxSide / side)) : first.Height;
        int width = side > maxSide ? Math.Max(1, (int)Math.Round(first.Width * (double)maxSide / side)) : first.Width;
        using var pixels = Pixels(real, height, width, first.Channels);
        int p = (int)Math.Min(components, Math.Min(pixels.shape[0], pixels.shape[1]));
        var pca = Pca.Fit(pixels, p, new PcaOptions(Seed: seed));
        return new PixelPcaFeatures(pca, height, width, first.Channels, real.Count);
    }

    /// <summary>The features of <paramref name="images"/>: float64 (n, P).</summary>
    public Tensor Transform(IReadOnlyList<ByteImage> images)
    {
        if (images.Count == 0) return zeros(0, Dimensions, ScalarType.Float64);
        using var pixels = Pixels(images, Height, Width, Channels);
        return pca.Transform(pixels);
    }

    /// <summary>What the space is, in words, for reports.</summary>
    public string Describe() =>
        $"PCA-{Dimensions} of [−1, 1] pixels ({Width}×{Height}×{Channels}) fitted on {FittedOn} real training images";

    /// <summary>
    /// The images as rows of float64 pixels in [−1, 1], (n, H·W·C) in HWC order, after converting to
    /// <paramref name="channels"/> and resizing to <paramref name="height"/>×<paramref name="width"/> where they differ.
    /// </summary>
    public static Tensor Pixels(IReadOnlyList<ByteImage> images, int height, int width, int channels)
    {
        int plane = height * width * channels;
        var values = new double[(long)images.Count * plane];
        Parallel.For(0, images.Count, i =>
        {
            var image = images[i].WithChannels(channels);
            if (image.Height != height || image.Width != width) image = ImageTransforms.Resize(image, width, height);
            var row = values.AsSpan(i * plane, plane);
            var src = image.Pixels;
            for (int j = 0; j < plane; j++) row[j] = src[j] / 127.5 - 1.0;
        });
        return tensor(values, [images.Count, plane], ScalarType.Float64);
    }

    public void Dispose() => pca.Dispose();
}
