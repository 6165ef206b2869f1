using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>The feature space <see cref="Herding"/> works in.</summary>
public enum HerdingFeatureSpace
{
    /// <summary>
    /// The 2048-d penultimate features (flattened last block) of a ConvNet-3 trained briefly on the real training set
    /// (<see cref="HerdingOptions.EmbeddingEpochs"/> epochs over <see cref="HerdingOptions.EmbeddingImages"/> random
    /// training images, SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 256, no augmentation).
    /// </summary>
    ConvNet,

    /// <summary>Normalised pixels, one vector per image.</summary>
    Pixels,
}

/// <summary>Settings of <see cref="Herding.Select(ImageDataset, int, HerdingOptions, Normalization, IProgress{WorkProgress}?, CancellationToken)"/>.</summary>
public sealed record HerdingOptions
{
    public HerdingFeatureSpace FeatureSpace { get; init; } = HerdingFeatureSpace.ConvNet;
    public long Seed { get; init; }
    public int EmbeddingEpochs { get; init; } = 1;
    public int EmbeddingImages { get; init; } = 10_000;
}

/// <summary>
/// Herding (Welling 2009), the coreset baseline of DC/DSA's Table 1, per class: with μ the class's mean
/// feature and S the sum of the t − 1 features chosen so far, step t picks the unchosen sample i that minimises
/// ‖μ − (S + f_i)/t‖, so the running mean of the chosen samples tracks μ greedily. The first pick is the sample
/// closest to the mean. Features are used as they are (no L2 normalisation).
/// </summary>
public static class Herding
{
    /// <summary>
    /// Herding on one class: <paramref name="features"/> is n×d; returns <paramref name="k"/> row indices in pick order. The
    /// running mean tracks <paramref name="towards"/> (d), by default the mean of <paramref name="features"/> themselves. With
    /// <paramref name="groups"/> (n group ids), one row per group until every group has one (<see cref="CandidateChoice"/>).
    /// </summary>
    public static int[] Select(Tensor features, int k, Tensor? towards = null, Tensor? groups = null)
    {
        if (features.ndim != 2) throw new ArgumentException($"Features must be n×d, got [{string.Join(", ", features.shape)}].", nameof(features));
        long n = features.shape[0];
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"Need 1 ≤ k ≤ {n}.");
        using var scope = NewDisposeScope();
        var f = features.to(float64);
        var mu = towards?.to(float64) ?? f.mean([0]);
        var squaredNorms = f.pow(2).sum(1);
        var sum = zeros_like(mu);
        var taken = new Eligibility(n, groups);
        var picks = new int[k];
        for (int t = 1; t <= k; t++)
        {
            // ‖μ − (S + f_i)/t‖² = ‖target − f_i‖²/t² with target = tμ − S; drop the constant ‖target‖².
            var target = mu * t - sum;
            var distance = squaredNorms - 2 * f.matmul(target);
            distance.masked_fill_(taken.Mask, double.PositiveInfinity);
            long i = distance.argmin().item<long>();
            picks[t - 1] = (int)i;
            taken.Take(i);
            sum.add_(f[i]);
        }
        return picks;
    }

    /// <summary>
    /// <paramref name="ipc"/> herded training images per class of <paramref name="dataset"/>, in the feature space
    /// <paramref name="options"/> names; indices into <c>dataset.Train</c>.
    /// </summary>
    public static int[][] Select(ImageDataset dataset, int ipc, HerdingOptions options, Normalization normalization,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var byClass = ByClass(dataset, ipc);
        using var embedding = options.FeatureSpace == HerdingFeatureSpace.ConvNet
            ? TrainEmbedding(dataset, normalization, options, progress, cancellationToken)
            : null;
        return Select(dataset, byClass, ipc, embedding, normalization, progress, cancellationToken);
    }

    /// <summary>
    /// As <see cref="Select(ImageDataset, int, HerdingOptions, Normalization, IProgress{WorkProgress}?, CancellationToken)"/>
    /// among <paramref name="byClass"/> (<see cref="ByClass"/>) in the features of <paramref name="embedding"/>, an embedding
    /// network already trained (null: normalised pixels).
    /// </summary>
    internal static int[][] Select(ImageDataset dataset, List<int>[] byClass, int ipc, ConvNet? embedding, Normalization normalization,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        var split = dataset.Train;
        var probe = split.Load(0);
        int channels = dataset.Channels, height = probe.Height, width = probe.Width;
        var chosen = new int[dataset.ClassCount][];
        for (int c = 0; c < dataset.ClassCount; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new WorkProgress("herding", c, dataset.ClassCount, $"class {dataset.ClassNames[c]}"));
            using var scope = NewDisposeScope();
            using var images = LabelledImages.Load(split, normalization, channels, height, width, byClass[c]);
            var features = embedding is null ? images.Images.flatten(1) : Embed(embedding, images.Images);
            chosen[c] = Select(features, ipc).Select(i => byClass[c][i]).ToArray();
        }
        progress?.Report(new WorkProgress("herding", dataset.ClassCount, dataset.ClassCount));
        return chosen;
    }

    /// <summary>The training images of each class, after checking that each class has <paramref name="ipc"/> to choose.</summary>
    internal static List<int>[] ByClass(ImageDataset dataset, int ipc)
    {
        if (ipc < 1) throw new UserInputException($"Images per class must be 1 or more; got {ipc}.");
        var byClass = RandomSelection.IndicesByClass(dataset.Train, dataset.ClassCount);
        for (int c = 0; c < byClass.Length; c++)
            if (byClass[c].Count < ipc)
                throw new UserInputException($"Class '{dataset.ClassNames[c]}' has {byClass[c].Count} training images; {ipc} per class were asked for.");
        return byClass;
    }

    /// <summary>
    /// The convolution kernels the embedding network trains and embeds with, always (<see cref="ConvolutionBackend"/>):
    /// part of every cache key of a stage that uses the network, so choices made before it was fixed are not reused.
    /// </summary>
    internal const string Kernels = "libtorch native convolutions";

    /// <summary>
    /// The embedding network <see cref="TrainEmbedding(ImageDataset, Normalization, HerdingOptions, IProgress{WorkProgress}?, CancellationToken)"/>
    /// trained and saved to <paramref name="weights"/> (eval mode, on the same kernels, <see cref="Kernels"/>), with the
    /// training images it saw (indices into <c>dataset.Train</c>).
    /// </summary>
    internal static (ConvNet Net, int[] Seen) LoadEmbedding(ImageDataset dataset, HerdingOptions options, string weights)
    {
        ConvolutionBackend.UseNativeKernels();
        var probe = dataset.Train.Load(0);
        var net = new ConvNet(dataset.Channels, probe.Height, probe.Width, dataset.ClassCount);
        net.load(weights);
        net.eval();
        return (net, EmbeddingSubset(dataset.Train.Count, options));
    }

    static int[] EmbeddingSubset(int total, HerdingOptions options)
    {
        int count = Math.Min(options.EmbeddingImages, total);
        var subset = Enumerable.Range(0, total).ToArray();
        var random = Seeds.Random(options.Seed, SeedStream.HerdingSubset);
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, subset.Length);
            (subset[i], subset[j]) = (subset[j], subset[i]);
        }
        return subset[..count];
    }

    /// <summary>The embedding network of <see cref="HerdingFeatureSpace.ConvNet"/> trained on the real training split (eval mode).</summary>
    internal static ConvNet TrainEmbedding(ImageDataset dataset, Normalization normalization, HerdingOptions options,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        // libtorch has one convolution switch per process, and the importer turns oneDNN off for good the first time it
        // builds a graph with convolutions (the fusion module, a fine-tune). Without this line the network would train on
        // oneDNN in a distill whose fusion stage came from the cache and on the native kernels in one that trained it, and
        // the two would choose different candidates from the same inputs. See Kernels.
        ConvolutionBackend.UseNativeKernels();
        var split = dataset.Train;
        var probe = split.Load(0);
        int channels = dataset.Channels, height = probe.Height, width = probe.Width;
        var subset = EmbeddingSubset(split.Count, options);
        int count = subset.Length;
        using var train = LabelledImages.Load(split, normalization, channels, height, width, subset);
        var net = new ConvNet(channels, height, width, dataset.ClassCount);
        using (var init = new Generator(Seeds.Derive(options.Seed, SeedStream.HerdingInit), CPU)) ClassifierInit.TorchDefault(net, init);
        using var generator = new Generator(Seeds.Derive(options.Seed, SeedStream.HerdingTraining), CPU);
        var loop = new MiniBatchSgd
        {
            Epochs = options.EmbeddingEpochs,
            BatchSize = 256,
            Momentum = 0.9,
            WeightDecay = 5e-4,
            LearningRateAt = _ => 0.01,
            Loss = (m, x, y, _) => F.cross_entropy(m.call(x), y),
        };
        var epochs = progress is null ? null : new InlineProgress<WorkProgress>(p => progress.Report(p with { Task = "herding embedding", Status = $"{p.Status} on {count} images" }));
        epochs?.Report(new WorkProgress("train", 0, options.EmbeddingEpochs));
        loop.Train(net, train, generator, epochs, cancellationToken);
        net.eval();
        return net;
    }

    internal static Tensor Embed(ConvNet net, Tensor images)
    {
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += 500)
            parts.Add(net.Embed(images.narrow(0, start, Math.Min(500, images.shape[0] - start))));
        return cat(parts, 0);
    }
}
