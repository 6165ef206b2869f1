using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// A whole split held as two tensors — normalised float32 images N×C×H×W and int64 labels N — so that
/// training reads batches with one <c>index_select</c> and never decodes or converts an image twice.
/// </summary>
public sealed class LabelledImages : IDisposable
{
    public LabelledImages(Tensor images, Tensor labels)
    {
        if (images.ndim != 4) throw new ArgumentException($"Images must be N×C×H×W, got [{string.Join(", ", images.shape)}].", nameof(images));
        if (labels.ndim != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"Need one label per image: {images.shape[0]} images, labels [{string.Join(", ", labels.shape)}].", nameof(labels));
        Images = images;
        Labels = labels.dtype == int64 ? labels : labels.to(int64);
    }

    /// <summary>Normalised images, N×C×H×W float32.</summary>
    public Tensor Images { get; }

    /// <summary>Class indices, int64.</summary>
    public Tensor Labels { get; }

    public int Count => (int)Images.shape[0];
    public int Channels => (int)Images.shape[1];
    public int Height => (int)Images.shape[2];
    public int Width => (int)Images.shape[3];

    /// <summary>
    /// Loads every sample of <paramref name="split"/> (or those at <paramref name="indices"/>) into tensors.
    /// Images are converted to <paramref name="channels"/> channels and resized (PIL bilinear) to
    /// <paramref name="height"/>×<paramref name="width"/> when they differ; <paramref name="labelMap"/>, when
    /// given, maps the split's labels onto others; <paramref name="preprocess"/>, when given, transforms every image first
    /// (e.g. resize the shorter side and centre-crop).
    /// </summary>
    public static LabelledImages Load(DatasetSplit split, Normalization normalization, int channels, int height, int width,
        IReadOnlyList<int>? indices = null, IReadOnlyList<int>? labelMap = null, Func<ByteImage, ByteImage>? preprocess = null)
    {
        int n = indices?.Count ?? split.Count;
        if (n == 0) throw new ArgumentException($"Split '{split.Name}' has no samples to load.", nameof(split));
        int plane = channels * height * width;
        var pixels = new float[(long)n * plane];
        var labels = new long[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            int index = indices?[i] ?? i;
            var image = split.Load(index);
            if (preprocess is not null) image = preprocess(image);
            image = image.WithChannels(channels);
            if (image.Height != height || image.Width != width) image = ImageTransforms.Resize(image, width, height);
            NchwBatch.WriteChw(image, normalization, pixels.AsSpan((int)((long)i * plane), plane));
            int label = split.LabelOf(index);
            labels[i] = labelMap is null ? label : labelMap[label];
        });
        return new LabelledImages(tensor(pixels, [n, channels, height, width]), tensor(labels));
    }

    /// <summary>The samples of the given classes only, relabelled 0, 1, … in the order given.</summary>
    public static LabelledImages LoadClasses(DatasetSplit split, Normalization normalization, int channels, int height, int width, IReadOnlyList<int> classes, int classCount)
    {
        var map = Enumerable.Repeat(-1, classCount).ToArray();
        for (int i = 0; i < classes.Count; i++) map[classes[i]] = i;
        var indices = Enumerable.Range(0, split.Count).Where(i => map[split.LabelOf(i)] >= 0).ToArray();
        return Load(split, normalization, channels, height, width, indices, map);
    }

    /// <summary>torchvision's Resize(size) then CenterCrop(size): the evaluation preprocessing of images of varying size (IDC, ImageNet subsets).</summary>
    public static Func<ByteImage, ByteImage> ResizeAndCenterCrop(int size) =>
        image => ImageTransforms.CenterCrop(ImageTransforms.ResizeShorterSide(image, size), size, size);

    /// <summary>Number of images of each class 0 .. <paramref name="classCount"/> − 1.</summary>
    public int[] CountPerClass(int classCount)
    {
        var counts = new int[classCount];
        foreach (var l in Labels.data<long>()) counts[l]++;
        return counts;
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
