using Microsoft.Extensions.Logging;
using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>
/// The real side of the fidelity metrics, built once and shared by every synthetic set scored against it: a seeded
/// sample of at most <see cref="FidelityOptions.RealPerClass"/> training images per class, the
/// <see cref="PixelPcaFeatures"/> space fitted on them, their features, and the k-NN balls of each class and of
/// the whole sample (<see cref="RealManifold"/>).
/// </summary>
public sealed class FidelityReference : IDisposable
{
    readonly RealManifold?[] perClass;
    readonly RealManifold global;

    FidelityReference(PixelPcaFeatures space, Tensor realFeatures, int[] realLabels, IReadOnlyList<string> classNames,
        RealManifold?[] perClass, RealManifold global, FidelityOptions options)
    {
        Space = space;
        RealFeatures = realFeatures;
        RealLabels = realLabels;
        ClassNames = classNames;
        this.perClass = perClass;
        this.global = global;
        Options = options;
    }

    public PixelPcaFeatures Space { get; }

    /// <summary>Features of the reference images, float64 (N, P), grouped by class in label order.</summary>
    public Tensor RealFeatures { get; }

    /// <summary>Label of each row of <see cref="RealFeatures"/>.</summary>
    public IReadOnlyList<int> RealLabels { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public FidelityOptions Options { get; }

    /// <summary>Draws the reference sample from <paramref name="real"/>'s train split and fits everything.</summary>
    /// <exception cref="UserInputException">The train split has no more than k images in all.</exception>
    public static FidelityReference Build(ImageDataset real, FidelityOptions? options = null, ILogger? logger = null)
    {
        var o = options ?? new FidelityOptions();
        if (o.K < 1) throw new UserInputException($"k must be 1 or more; got {o.K}.");
        if (o.RealPerClass < 1) throw new UserInputException($"Real images per class must be 1 or more; got {o.RealPerClass}.");
        var indices = Sample(real.Train, real.ClassCount, o.RealPerClass, o.Seed);
        if (indices.Length <= o.K)
            throw new UserInputException($"Dataset {real.Name} has {indices.Length} training images; density and coverage with k = {o.K} need more than {o.K}.");
        logger?.LogInformation("{Message}", $"loading {indices.Length} real reference images");
        var images = new ByteImage[indices.Length];
        Parallel.For(0, indices.Length, i => images[i] = real.Train.Load(indices[i]));
        var labels = indices.Select(real.Train.LabelOf).ToArray();

        logger?.LogInformation("{Message}", "fitting the PCA feature space");
        var space = PixelPcaFeatures.Fit(images, o.Components, o.Seed, o.MaxSide);
        var features = space.Transform(images);
        logger?.LogInformation("{Message}", $"k-NN radii (k = {o.K}) of {indices.Length} real images");
        var perClass = new RealManifold?[real.ClassCount];
        for (int c = 0; c < real.ClassCount; c++)
        {
            var rows = RowsOf(labels, c);
            if (rows.Length <= o.K) continue; // too few real images of the class for a k-th neighbour
            using var index = tensor(rows);
            using var classFeatures = features.index_select(0, index);
            perClass[c] = RealManifold.Fit(classFeatures, o.K);
        }
        var global = RealManifold.Fit(features, o.K);
        return new FidelityReference(space, features, labels, real.ClassNames, perClass, global, o);
    }

    /// <summary>Scores synthetic <paramref name="features"/> (n, P) whose labels (real label order) are <paramref name="labels"/>.</summary>
    public SetFidelity Score(Tensor features, IReadOnlyList<int> labels)
    {
        if (features.shape[0] != labels.Count)
            throw new ArgumentException($"Need one label per feature row: {features.shape[0]} rows, {labels.Count} labels.", nameof(labels));
        var scores = new DensityCoverage?[ClassNames.Count];
        for (int c = 0; c < scores.Length; c++)
        {
            var rows = RowsOf(labels, c);
            if (rows.Length == 0 || perClass[c] is not { } manifold) continue;
            using var index = tensor(rows);
            using var classFeatures = features.index_select(0, index);
            scores[c] = manifold.Score(classFeatures);
        }
        return new SetFidelity(global.Score(features), scores);
    }

    /// <summary>At most <paramref name="perClass"/> indices of each class, a seeded random choice, grouped by class in label order and sorted within each.</summary>
    public static int[] Sample(DatasetSplit split, int classCount, int perClass, int seed)
    {
        var byClass = Enumerable.Range(0, classCount).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < split.Count; i++) byClass[split.LabelOf(i)].Add(i);
        var random = new Random(seed);
        var chosen = new List<int>();
        foreach (var members in byClass)
        {
            var pool = members.ToArray();
            int take = Math.Min(perClass, pool.Length);
            for (int i = 0; i < take; i++) // partial Fisher–Yates
            {
                int j = random.Next(i, pool.Length);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
            chosen.AddRange(pool.Take(take).Order());
        }
        return chosen.ToArray();
    }

    static long[] RowsOf(IReadOnlyList<int> labels, int c) =>
        Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).Select(i => (long)i).ToArray();

    public void Dispose()
    {
        Space.Dispose();
        RealFeatures.Dispose();
        foreach (var m in perClass) m?.Dispose();
        global.Dispose();
    }
}
