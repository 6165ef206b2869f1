using Evlf.OnnxHybrid.Fusion;

namespace Evlf.Cli.Commands;

/// <summary>
/// The fusion-training flags that `evlf distill` and `evlf train-fusion` share (--fusion-epochs, --fusion-samples,
/// --learn-temperature, --fusion-lambda1, --fusion-lambda2): their check and the options they make from a preset's.
/// </summary>
static class FusionTrainingFlags
{
    /// <summary>Why --fusion-samples is not a count the flag can mean (0 is every image), as one line; null when it is. Every other value is checked by the library.</summary>
    public static string? Error(int? samples) =>
        samples is < 0 ? $"--fusion-samples must be 0 (every image) or a positive count; got {samples}." : null;

    /// <summary><paramref name="preset"/>'s fusion training with the flags applied; flags left out keep its values (samples 0 = every image).</summary>
    public static FusionTrainingOptions Options(FusionTrainingOptions preset, int? epochs, int? samples, bool learnTemperature, double lambda1, double lambda2) =>
        // The ramp starts at the preset's (the released 0.05), or at the cap when the cap is lower.
        preset with
        {
            Epochs = epochs ?? preset.Epochs, MaxSamples = samples is int n ? (n == 0 ? null : n) : preset.MaxSamples,
            LearnTemperature = learnTemperature || preset.LearnTemperature,
            Lambda1 = lambda1, Lambda2End = lambda2, Lambda2Start = Math.Min(preset.Lambda2Start, lambda2),
        };
}
