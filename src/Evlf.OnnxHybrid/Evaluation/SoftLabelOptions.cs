using Evlf.OnnxHybrid.Classifiers;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>The learning-rate schedules of <see cref="SoftLabelProtocol"/>, stepped once per epoch as the anchors' LambdaLR.</summary>
public enum SoftLabelSchedule
{
    /// <summary>lr·½(1 + cos(π e / E)): from lr to 0 (SRe2L's train_KD.py with --cos; D4M).</summary>
    Cosine,

    /// <summary>lr·½(1 + cos(π e / (2E))): a quarter wave from lr to lr/2 (RDED's validation/main.py, whose --cos is on by default).</summary>
    RdedCosine,
}

/// <summary>
/// Settings of <see cref="SoftLabelProtocol"/>, as named presets (<see cref="Rded"/>, <see cref="D4m"/>; <see cref="Preset"/>).
/// Every default is a published one: RDED (Sun et al., CVPR 2024; LINs-lab/RDED argument.py and validation/main.py) and
/// SRe2L (Yin et al., NeurIPS 2023; VILA-Lab/SRe2L validate/train_KD.py) train students with AdamW (lr 1e-3 for ConvNet
/// and ResNet-18 students, betas 0.9/0.999, weight decay 0.01) for 300 epochs; RDED uses T = 20 with CutMix (and T = 4
/// with MixUp); D4M (docs/PIPELINES.md §6) a ResNet-18 teacher, T = 20, AdamW 1e-3, cosine, 300 epochs.
/// </summary>
public sealed record SoftLabelOptions
{
    /// <summary>The preset's name, written to eval.json ("rded", "d4m").</summary>
    public string Name { get; init; } = "rded";

    /// <summary>Softmax temperature T of teacher and student (RDED argument.py: 20 when --mix-type is cutmix, its default).</summary>
    public double Temperature { get; init; } = 20;

    /// <summary>Training epochs (RDED --re-epochs, SRe2L --epochs: 300).</summary>
    public int Epochs { get; init; } = 300;

    /// <summary>Batch size; null: <see cref="SoftLabelProtocol.BatchSizeFor"/>, RDED's rule by images per class.</summary>
    public int? BatchSize { get; init; }

    /// <summary>AdamW learning rate (RDED argument.py for conv3…conv6 and resnet18 students; SRe2L --adamw-lr: 0.001).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW's decoupled weight decay (RDED and SRe2L --adamw-weight-decay: 0.01).</summary>
    public double WeightDecay { get; init; } = 0.01;

    public SoftLabelSchedule Schedule { get; init; } = SoftLabelSchedule.RdedCosine;

    /// <summary>
    /// Smallest area fraction of the RandomResizedCrop every training image gets (then a flip with probability ½, then CutMix
    /// on the batch). RDED crops with scale (1/factor, 1) and its --factor defaults to 2.
    /// </summary>
    public double CropScaleMin { get; init; } = 0.5;

    /// <summary>The teacher and how it is trained.</summary>
    public TeacherOptions Teacher { get; init; } = new();

    /// <summary>Test-pass batch size (no effect on results).</summary>
    public int TestBatchSize { get; init; } = ClassifierAccuracy.DefaultBatchSize;

    /// <summary>RDED's student protocol with a ConvNet-3 teacher (RDED's scripts pair conv3 teachers with conv3 students).</summary>
    public static SoftLabelOptions Rded { get; } = new();

    /// <summary>D4M's evaluation (docs/PIPELINES.md §6): ResNet-18 teacher, T = 20, AdamW 1e-3, cosine to 0, 300 epochs; batch and augmentation as <see cref="Rded"/>.</summary>
    public static SoftLabelOptions D4m { get; } = new()
    {
        Name = "d4m",
        Schedule = SoftLabelSchedule.Cosine,
        Teacher = new TeacherOptions { Architecture = ClassifierArchitecture.ResNet18 },
    };

    /// <summary>The preset names, for help and errors.</summary>
    public const string PresetNames = "rded or d4m";

    /// <summary>The preset called <paramref name="name"/> (case-insensitive); a <see cref="UserInputException"/> naming <see cref="Name"/> otherwise.</summary>
    public static SoftLabelOptions Preset(string name) => (name ?? "").Trim().ToLowerInvariant() switch
    {
        "rded" => Rded,
        "d4m" => D4m,
        _ => throw UserInputException.ForOption(OptionName(nameof(Name)), $"must be a soft-label preset, {PresetNames}; got '{name}'."),
    };

    /// <summary>The full name of option <paramref name="property"/>, as errors name it ("SoftLabelOptions.Temperature").</summary>
    public static string OptionName(string property) => $"{nameof(SoftLabelOptions)}.{property}";

    /// <summary>Checks every value, the teacher's too: throws a <see cref="UserInputException"/> naming the option.</summary>
    public void Validate()
    {
        static string Number(double x) => FormattableString.Invariant($"{x}");
        Require(Temperature > 0 && double.IsFinite(Temperature), nameof(Temperature), $"must be a finite number above 0; got {Number(Temperature)}.");
        Require(Epochs >= 1, nameof(Epochs), $"must be at least 1; got {Epochs}.");
        Require(BatchSize is not < 1, nameof(BatchSize), $"must be at least 1 (or unset: RDED's rule); got {BatchSize}.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be a finite number above 0; got {Number(LearningRate)}.");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"must be a finite number of at least 0; got {Number(WeightDecay)}.");
        Require(CropScaleMin is > 0 and <= 1, nameof(CropScaleMin), $"must be in (0, 1]; got {Number(CropScaleMin)}.");
        Require(TestBatchSize >= 1, nameof(TestBatchSize), $"must be at least 1; got {TestBatchSize}.");
        Teacher.Validate();

        static void Require(bool ok, string property, string problem)
        {
            if (!ok) throw UserInputException.ForOption(OptionName(property), problem);
        }
    }
}
