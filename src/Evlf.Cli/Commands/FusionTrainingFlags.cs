using Evlf.OnnxHybrid.Fusion;

namespace Evlf.Cli.Commands;

/// <summary>
/// The fusion-training flags that `evlf distill` and `evlf train-fusion` share (--fusion-epochs, --fusion-samples,
/// --learn-temperature, --fusion-lambda1, --fusion-lambda2): their default, their check and the options they make.
/// </summary>
static class FusionTrainingFlags
{
    /// <summary>Fusion training images per epoch in the default run: 4 epochs × 12 000 = a fifth of the released full pass, so `evlf distill` fits 15 minutes on 2 cores.</summary>
    public const int DefaultSamples = 12000;

    /// <summary>Why the flags are invalid, as one line; null when they are valid.</summary>
    public static string? Error(int? epochs, int samples, double lambda1, double lambda2) =>
        epochs is < 1 ? $"--fusion-epochs must be at least 1; got {epochs}."
        : samples is < 32 and not 0 ? $"--fusion-samples must be 0 (every image) or at least 32; got {samples}."
        : !(lambda1 >= 0 && double.IsFinite(lambda1)) ? $"--fusion-lambda1 must be a finite number of at least 0; got {lambda1}."
        : !(lambda2 >= 0 && double.IsFinite(lambda2)) ? $"--fusion-lambda2 must be a finite number of at least 0; got {lambda2}."
        : null;

    /// <summary>The released recipe with the flags applied (samples 0 = every image).</summary>
    public static FusionTrainingOptions Options(int? epochs, int samples, bool learnTemperature, double lambda1, double lambda2)
    {
        var released = new FusionTrainingOptions();
        // The ramp starts at the released 0.05, or at the cap when the cap is lower.
        return released with
        {
            Epochs = epochs ?? released.Epochs, MaxSamples = samples == 0 ? null : samples, LearnTemperature = learnTemperature,
            Lambda1 = lambda1, Lambda2End = lambda2, Lambda2Start = Math.Min(released.Lambda2Start, lambda2),
        };
    }
}
