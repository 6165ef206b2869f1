namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// The per-channel mean/std the evaluation protocols normalise with: the constants DC/DSA uses where it
/// has them (Fashion-MNIST 0.2861/0.3530, CIFAR-10/100 0.4914,0.4822,0.4465 / 0.2023,0.1994,0.2010), ImageNet's
/// for ImageNet subsets (IDC), and otherwise the statistics of up to <see cref="SampleLimit"/> training images.
/// </summary>
public static class DatasetNormalization
{
    /// <summary>Most training images read to estimate the statistics of a dataset without published constants.</summary>
    public const int SampleLimit = 5000;

    /// <summary>The normalisation of <paramref name="dataset"/>, by the spec it was opened from (<see cref="ImageDataset.Spec"/>).</summary>
    public static Normalization For(ImageDataset dataset) => For(dataset.Spec, dataset);

    /// <summary>The normalisation of <paramref name="dataset"/> as the data <paramref name="spec"/> names it (null: measured).</summary>
    public static Normalization For(DataSpec? spec, ImageDataset dataset)
    {
        int channels = dataset.Channels;
        var (mean, std) = spec?.Kind switch
        {
            DataSpecKind.FashionMnist => ([FashionMnist.Statistics.Mean], [FashionMnist.Statistics.Std]),
            DataSpecKind.Cifar10 or DataSpecKind.Cifar100 => (new[] { 0.4914f, 0.4822f, 0.4465f }, new[] { 0.2023f, 0.1994f, 0.2010f }),
            DataSpecKind.ImageNet => (new[] { 0.485f, 0.456f, 0.406f }, new[] { 0.229f, 0.224f, 0.225f }),
            _ => Measure(dataset.Train),
        };
        if (mean.Length != 1 && mean.Length != channels) (mean, std) = Measure(dataset.Train);
        return Normalization.MeanStd(mean, std);
    }

    /// <summary>Per-channel mean and std of pixel values in [0, 1] over evenly spaced training images.</summary>
    public static (float[] Mean, float[] Std) Measure(DatasetSplit split)
    {
        if (split.Count == 0) throw new UserInputException($"Split '{split.Name}' has no images to measure normalisation statistics from.");
        int count = Math.Min(split.Count, SampleLimit);
        int c = split.Channels;
        var sum = new double[c];
        var sumSq = new double[c];
        long pixels = 0;
        for (int k = 0; k < count; k++)
        {
            var image = split.Load((int)((long)k * split.Count / count));
            var px = image.Pixels;
            for (int i = 0; i < px.Length; i++)
            {
                double v = px[i] / 255.0;
                sum[i % c] += v;
                sumSq[i % c] += v * v;
            }
            pixels += image.Height * image.Width;
        }
        var mean = new float[c];
        var std = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double m = sum[ch] / pixels;
            mean[ch] = (float)m;
            std[ch] = (float)Math.Sqrt(Math.Max(sumSq[ch] / pixels - m * m, 1e-12));
        }
        return (mean, std);
    }
}
