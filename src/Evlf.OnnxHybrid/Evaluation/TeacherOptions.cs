using Evlf.OnnxHybrid.Classifiers;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// How the teacher of soft-label evaluation is trained on the full real training split. The anchors download a teacher
/// pretrained elsewhere (torchvision's ResNet-18 for ImageNet; RDED's own checkpoints for CIFAR); nothing like that
/// exists for Fashion-MNIST, so evlf trains one, briefly, and caches it (<see cref="Teacher.LoadOrTrain"/>).
/// Defaults: DC/DSA's SGD (lr 0.01, momentum 0.9, weight decay 5e-4, batch 256) with a per-epoch cosine decay over
/// 2 epochs and DSA's crop and flip (one of them per batch). ConvNet-3 reaches 87.86% on Fashion-MNIST's test split
/// that way, in 12 minutes on 2 cores shared with other work (docs/EVALUATION.md, "Soft-label evaluation"); it is trained
/// once per dataset, seed and settings and read from the cache afterwards.
/// </summary>
public sealed record TeacherOptions
{
    /// <summary>The teacher network (RDED's scripts pair a ConvNet-3 teacher with a ConvNet-3 student; D4M a ResNet-18).</summary>
    public ClassifierArchitecture Architecture { get; init; } = ClassifierArchitecture.ConvNet3;

    /// <summary>Passes over the whole real training split.</summary>
    public int Epochs { get; init; } = 2;

    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>DSA operation groups for the teacher's batches (one drawn per batch); "none" trains without augmentation.</summary>
    public string Augmentation { get; init; } = "crop_flip";

    /// <summary>
    /// Folder of cached teachers; null: <see cref="DefaultCacheDirectory"/>. Entries are named by a hash of everything
    /// that shapes the teacher (<see cref="Teacher.KeyOf"/>), so another dataset, seed, network or setting trains anew.
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary><c>$EVLF_CACHE/teachers</c>, else <c>$XDG_CACHE_HOME/evlf/teachers</c>, else <c>~/.cache/evlf/teachers</c> (outside any input folder).</summary>
    public static string DefaultCacheDirectory() => Path.Combine(Text.MiniLmResources.CacheRoot(), "teachers");

    /// <summary>The training settings in one line (part of the cache key and of eval.json's protocol settings).</summary>
    public string Summary => FormattableString.Invariant(
        $"{Architecture.Name}, {Epochs} epochs on the real training split, SGD lr {LearningRate} momentum {Momentum} weight decay {WeightDecay}, batch {BatchSize}, per-epoch cosine, DSA {Augmentation}");

    /// <summary>The full name of option <paramref name="property"/>, as errors name it ("TeacherOptions.Epochs").</summary>
    public static string OptionName(string property) => $"{nameof(TeacherOptions)}.{property}";

    /// <summary>Checks every value: throws a <see cref="UserInputException"/> naming the option.</summary>
    public void Validate()
    {
        static string Number(double x) => FormattableString.Invariant($"{x}");
        Require(Epochs >= 1, nameof(Epochs), $"must be at least 1; got {Epochs}.");
        Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1; got {BatchSize}.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be a finite number above 0; got {Number(LearningRate)}.");
        Require(Momentum is >= 0 and < 1, nameof(Momentum), $"must be in [0, 1); got {Number(Momentum)}.");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"must be a finite number of at least 0; got {Number(WeightDecay)}.");
        Require(CacheDirectory is null || CacheDirectory.Trim().Length > 0, nameof(CacheDirectory), "must name a folder; got an empty path.");
        try
        {
            _ = new DsaParameters(Augmentation).Ops();
        }
        catch (UserInputException e)
        {
            throw UserInputException.ForOption(OptionName(nameof(Augmentation)), $"must name DSA operation groups; {e.Message}", e);
        }

        static void Require(bool ok, string property, string problem)
        {
            if (!ok) throw UserInputException.ForOption(OptionName(property), problem);
        }
    }
}
