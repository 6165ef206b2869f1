namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// The Minimax fine-tune of a class DiT (<see cref="DenoiserTraining.FinetuneMinimaxDit"/>). The released values
/// (MinimaxDiffusion's train_dit.py and run script; docs/PIPELINES.md §4): DiffFit parameters only, AdamW lr 1e-3 without
/// weight decay, batch 8, label dropout 0.1, EMA 0.9999 without warm-up, the EMA weights of step 12 000, memories of 64,
/// weights 0.002 (representativeness) and 0.008 (diversity).
/// </summary>
public sealed record MinimaxOptions
{
    /// <summary>The released run's steps (8 epochs at batch 8, EMA weights taken at step 12 000).</summary>
    public const int ReleasedSteps = 12_000;

    /// <summary>The released EMA decay per step.</summary>
    public const double ReleasedEmaDecay = 0.9999;

    /// <summary>
    /// Optimiser steps: the released 12 000. The default bundle's DiT takes about 18 ms a step at batch 8 through the
    /// importer on 2 CPU cores (alone), so the fine-tune takes about 4 minutes and a minimax distillation stays
    /// well within 15 minutes.
    /// </summary>
    public int Steps { get; init; } = ReleasedSteps;

    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// EMA decay per step; null scales the released 0.9999 to <see cref="Steps"/>: 0.9999^(12 000 / Steps), so the EMA
    /// forgets the starting weights as far after Steps steps as the released one after 12 000 (1 − 0.9999^12 000 ≈ 0.70).
    /// </summary>
    public double? EmaDecay { get; init; }

    /// <summary>Rows each per-class FIFO memory keeps (real latents and earlier x̂₀).</summary>
    public int MemorySize { get; init; } = 64;

    /// <summary>Weight of the representativeness term (the released --lambda-pos).</summary>
    public double RepresentativenessWeight { get; init; } = 0.002;

    /// <summary>Weight of the diversity term (the released --lambda-neg).</summary>
    public double DiversityWeight { get; init; } = 0.008;

    /// <summary>Label dropout: the share of rows trained with the null class (DiT's class_dropout_prob).</summary>
    public double ConditionDropout { get; init; } = 0.1;

    /// <summary>The decay the fine-tune uses: <see cref="EmaDecay"/>, or the released one scaled to <see cref="Steps"/>.</summary>
    public double EffectiveEmaDecay => EmaDecay ?? Math.Pow(ReleasedEmaDecay, (double)ReleasedSteps / Steps);

    /// <summary>The denoiser-training settings these map to (no weight decay, no EMA warm-up, as released); derived, so not written to manifests.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DenoiserTrainingOptions Training => new(Steps: Steps, BatchSize: BatchSize, LearningRate: LearningRate, WeightDecay: 0,
        ConditionDropout: ConditionDropout, EmaDecay: EffectiveEmaDecay, CheckpointEvery: 250, EmaWarmup: false);

    /// <summary>Checks each value; a bad one is a <see cref="UserInputException"/> naming the option (e.g. "MinimaxOptions.Steps").</summary>
    public void Validate()
    {
        static string Number(double x) => FormattableString.Invariant($"{x}");
        Require(Steps >= 1, nameof(Steps), $"must be at least 1; got {Steps}.");
        Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1; got {BatchSize}.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"must be a finite number above 0; got {Number(LearningRate)}.");
        Require(EmaDecay is not double d || (d >= 0 && d < 1), nameof(EmaDecay), $"must be in [0, 1); got {Number(EmaDecay ?? 0)}.");
        Require(MemorySize >= 1, nameof(MemorySize), $"must be at least 1; got {MemorySize}.");
        Require(RepresentativenessWeight >= 0 && double.IsFinite(RepresentativenessWeight), nameof(RepresentativenessWeight),
            $"must be a finite number of at least 0; got {Number(RepresentativenessWeight)}.");
        Require(DiversityWeight >= 0 && double.IsFinite(DiversityWeight), nameof(DiversityWeight), $"must be a finite number of at least 0; got {Number(DiversityWeight)}.");
        Require(ConditionDropout >= 0 && ConditionDropout < 1, nameof(ConditionDropout), $"must be in [0, 1); got {Number(ConditionDropout)}.");
    }

    static void Require(bool holds, string property, string problem)
    {
        if (!holds) throw UserInputException.ForOption($"{nameof(MinimaxOptions)}.{property}", problem);
    }
}
