namespace Evlf.OnnxHybrid.Fusion;

/// <summary>
/// EVLF stage A training, defaults as released (docs/PIPELINES.md §2): batch 16 with gradient accumulation 2,
/// 4 epochs, AdamW (fusion lr 3e-4, projector lr 1e-4, weight decay 1e-2), clip 1.0, λ1 = 0.1, λ2 ramped
/// 0.05 → 1.0 over the first half of the micro-batches, τ = 0.07 fixed, null condition with probability 0.2,
/// token dropout 0.1 plus N(0, 0.01²) noise otherwise.
/// </summary>
/// <param name="Epochs">Passes over the training samples.</param>
/// <param name="BatchSize">Samples per micro-batch.</param>
/// <param name="Accumulation">Micro-batches whose gradients are summed into one optimizer step.</param>
/// <param name="FusionLearningRate">AdamW learning rate of the fusion module.</param>
/// <param name="ProjectorLearningRate">AdamW learning rate of the projector (and of log(1/τ) when learned).</param>
/// <param name="WeightDecay">AdamW weight decay of both parameter groups.</param>
/// <param name="ClipGradNorm">Maximum global L2 norm of the gradients (0: no clipping).</param>
/// <param name="Lambda1">λ1, the weight of the InfoNCE term (Eq. 12).</param>
/// <param name="Lambda2Start">λ2, the weight of the MSE term, at the first micro-batch.</param>
/// <param name="Lambda2End">λ2 once the ramp ends, half-way through the micro-batches.</param>
/// <param name="NullConditionProbability">Probability that a micro-batch is fused with an all-zero text condition.</param>
/// <param name="TokenDropout">Dropout probability on the elements of the text condition when it is not null (survivors scaled by 1/(1 − p)).</param>
/// <param name="ConditionNoise">Standard deviation of the Gaussian noise added to a non-null text condition.</param>
/// <param name="Temperature">InfoNCE temperature τ (the starting value when <paramref name="LearnTemperature"/>).</param>
/// <param name="LearnTemperature">Train log(1/τ) too (the paper's intent; the released optimizer leaves it out).</param>
/// <param name="CheckpointEvery">Optimizer steps between checkpoints and log entries (one is also written at the end).</param>
/// <param name="MaxSamples">Train on a seeded subset of this many samples per epoch (null = all).</param>
public sealed record FusionTrainingOptions(
    int Epochs = 4,
    int BatchSize = 16,
    int Accumulation = 2,
    double FusionLearningRate = 3e-4,
    double ProjectorLearningRate = 1e-4,
    double WeightDecay = 1e-2,
    double ClipGradNorm = 1.0,
    double Lambda1 = 0.1,
    double Lambda2Start = 0.05,
    double Lambda2End = 1.0,
    double NullConditionProbability = 0.2,
    double TokenDropout = 0.1,
    double ConditionNoise = 0.01,
    double Temperature = 0.07,
    bool LearnTemperature = false,
    int CheckpointEvery = 500,
    int? MaxSamples = null)
{
    /// <summary>Checks every value on its own: throws a <see cref="UserInputException"/> naming the option (e.g. "FusionTrainingOptions.Epochs").</summary>
    public void Validate()
    {
        static string Number(double x) => FormattableString.Invariant($"{x}");
        Require(Epochs >= 1, nameof(Epochs), $"must be at least 1; got {Epochs}.");
        Require(BatchSize >= 1, nameof(BatchSize), $"must be at least 1; got {BatchSize}.");
        Require(Accumulation >= 1, nameof(Accumulation), $"must be at least 1; got {Accumulation}.");
        Require(MaxSamples is not < 1, nameof(MaxSamples), $"must be at least 1 (or unset: every sample); got {MaxSamples}.");
        Require(CheckpointEvery >= 1, nameof(CheckpointEvery), $"must be at least 1; got {CheckpointEvery}.");
        foreach (var (name, value) in new[] { (nameof(Lambda1), Lambda1), (nameof(Lambda2Start), Lambda2Start), (nameof(Lambda2End), Lambda2End),
                     (nameof(WeightDecay), WeightDecay), (nameof(ClipGradNorm), ClipGradNorm), (nameof(ConditionNoise), ConditionNoise) })
            Require(value >= 0 && double.IsFinite(value), name, $"must be a finite number of at least 0; got {Number(value)}.");
        foreach (var (name, value) in new[] { (nameof(FusionLearningRate), FusionLearningRate), (nameof(ProjectorLearningRate), ProjectorLearningRate), (nameof(Temperature), Temperature) })
            Require(value > 0 && double.IsFinite(value), name, $"must be a finite number above 0; got {Number(value)}.");
        foreach (var (name, value) in new[] { (nameof(NullConditionProbability), NullConditionProbability), (nameof(TokenDropout), TokenDropout) })
            Require(value >= 0 && value < 1, name, $"must be in [0, 1); got {Number(value)}.");
    }

    /// <summary>The name of option <paramref name="property"/> in <see cref="UserInputException.Option"/>.</summary>
    public static string OptionName(string property) => $"{nameof(FusionTrainingOptions)}.{property}";

    static void Require(bool holds, string property, string problem)
    {
        if (!holds) throw UserInputException.ForOption(OptionName(property), problem);
    }
}
