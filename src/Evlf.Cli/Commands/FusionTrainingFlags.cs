using Evlf.OnnxHybrid.Fusion;

namespace Evlf.Cli.Commands;

/// <summary>
/// The fusion-training flags that `evlf distill` and `evlf train-fusion` share (--fusion-epochs, --fusion-samples,
/// --learn-temperature): their default, their check and the options they make.
/// </summary>
static class FusionTrainingFlags
{
    /// <summary>Fusion training images per epoch in the default run: 4 epochs × 12 000 = a fifth of the released full pass, so `evlf distill` fits 15 minutes on 2 cores.</summary>
    public const int DefaultSamples = 12000;

    /// <summary>Why the flags are invalid, as one line; null when they are valid.</summary>
    public static string? Error(int? epochs, int samples) =>
        epochs is < 1 ? $"--fusion-epochs must be at least 1; got {epochs}."
        : samples is < 32 and not 0 ? $"--fusion-samples must be 0 (every image) or at least 32; got {samples}."
        : null;

    /// <summary>The released recipe with the flags applied (samples 0 = every image).</summary>
    public static FusionTrainingOptions Options(int? epochs, int samples, bool learnTemperature)
    {
        var released = new FusionTrainingOptions();
        return released with { Epochs = epochs ?? released.Epochs, MaxSamples = samples == 0 ? null : samples, LearnTemperature = learnTemperature };
    }
}
