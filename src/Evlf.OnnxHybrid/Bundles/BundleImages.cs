using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>
/// Real images as a bundle's VAE expects them: S×S×C in [−1, 1], NCHW float32. Smaller images are padded
/// with black at the centre (Fashion-MNIST 28 → 32, as the default bundle is trained), larger ones
/// centre-cropped after the ADM crop to S when they are much larger.
/// </summary>
public static class BundleImages
{
    public static Tensor Load(DatasetSplit split, int size, int channels, IReadOnlyList<int>? indices = null, IProgress<WorkProgress>? progress = null)
    {
        int n = indices?.Count ?? split.Count;
        var data = new float[(long)n * channels * size * size];
        int done = 0;
        var counting = new Lock();
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var image = Fit(split.Load(indices?[i] ?? i).WithChannels(channels), size);
            NchwBatch.WriteChw(image, Normalization.MinusOneToOne, data.AsSpan((int)((long)i * channels * size * size), channels * size * size));
            // Counted and reported under one lock, so the reports count up in order.
            lock (counting)
                if (++done % 1000 == 0) progress?.Report(new WorkProgress("load images", done, n));
        });
        progress?.Report(new WorkProgress("load images", n, n));
        return tensor(data, new long[] { n, channels, size, size });
    }

    /// <summary>Pads (black, centred) or crops (ADM centre crop) to size×size.</summary>
    public static ByteImage Fit(ByteImage image, int size)
    {
        if (image.Width == size && image.Height == size) return image;
        if (image.Width <= size && image.Height <= size)
        {
            int left = (size - image.Width) / 2, top = (size - image.Height) / 2;
            return ImageTransforms.Pad(image, left, top, size - image.Width - left, size - image.Height - top);
        }
        return AdmCenterCrop.CenterCropArr(image, size);
    }

    /// <summary>
    /// The inverse of <see cref="Fit"/>'s padding: a size×size image of the bundle back to <paramref name="width"/>×<paramref name="height"/>
    /// when images of that size were padded to reach the bundle (Fashion-MNIST 32 → 28: the centre window the real image
    /// filled). Images that <see cref="Fit"/> cropped are returned as they are: a crop cannot be undone.
    /// </summary>
    public static ByteImage Unpad(ByteImage image, int width, int height)
    {
        if (width > image.Width || height > image.Height || (width == image.Width && height == image.Height)) return image;
        int left = (image.Width - width) / 2, top = (image.Height - height) / 2;
        return ImageTransforms.Crop(image, top, left, height, width);
    }

    /// <summary>The inverse of the [−1, 1] mapping for saving: clamp, to [0, 255], round half up (as DiT's sample.py does).</summary>
    public static ByteImage ToByteImage(Tensor chw)
    {
        using var scope = NewDisposeScope();
        long c = chw.shape[0], h = chw.shape[1], w = chw.shape[2];
        var hwc = ((chw.clamp(-1, 1) + 1) * 127.5f + 0.5f).floor().clamp(0, 255).to(ScalarType.Byte).permute(1, 2, 0).contiguous();
        return new ByteImage((int)h, (int)w, (int)c, hwc.data<byte>().ToArray());
    }
}
