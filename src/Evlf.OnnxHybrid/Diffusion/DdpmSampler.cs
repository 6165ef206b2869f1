using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>Where the variance of a DDPM reverse step comes from.</summary>
public enum VarianceType
{
    /// <summary>
    /// The model's extra C channels v interpolate log σ² between log β̃_i (clipped) and log β_i:
    /// f = (v + 1)/2, log σ² = f·log β_i + (1 − f)·log β̃_i (IDDPM; DiT's 8-channel output).
    /// </summary>
    LearnedRange,

    /// <summary>σ² = β̃_i, the posterior variance (log clipped at index 0).</summary>
    FixedSmall,

    /// <summary>σ² = β_i, with β̃_1 at index 0.</summary>
    FixedLarge,
}

/// <summary>Options of the DDPM ancestral sampler.</summary>
/// <param name="Variance">Source of σ²; learned range by default, as DiT.</param>
/// <param name="ClipDenoised">Clamp x̂₀ to [−1, 1] before the posterior mean. Off by default (DiT, docs/PIPELINES.md §1).</param>
public sealed record DdpmOptions(VarianceType Variance = VarianceType.LearnedRange, bool ClipDenoised = false);

/// <summary>
/// DDPM ancestral sampling on a respaced process (IDDPM p_sample): x̂₀ = √(1/ᾱ_i)·x − √(1/ᾱ_i − 1)·ε,
/// mean = coef1_i·x̂₀ + coef2_i·x, x_{i−1} = mean + σ_i·noise, no noise at index 0.
/// </summary>
public sealed class DdpmSampler : Sampler
{
    public DdpmSampler(SpacedSchedule schedule, DdpmOptions? options = null) : base(schedule) => Options = options ?? new DdpmOptions();

    public DdpmOptions Options { get; }

    /// <summary>Every step but the last adds noise.</summary>
    public override bool AddsNoise(int index) => index != 0;

    public override StepPrediction Predict(Tensor modelOutput, int index, Tensor x)
    {
        var (eps, v) = SplitOutput(modelOutput, index, x);
        if (Options.Variance == VarianceType.LearnedRange && v is null)
            throw new ArgumentException($"DDPM with learned-range variance needs a model output of 2·{x.shape[1]} channels ([ε, v]); got {modelOutput.shape[1]}.", nameof(modelOutput));
        var s = Schedule.Schedule;
        using var scope = NewDisposeScope();
        var predX0 = s.PredictX0FromEps(x, eps, index);
        if (Options.ClipDenoised) predX0.clamp_(-1.0, 1.0);
        var mean = s.PosteriorMean(predX0, x, index);
        Tensor std = Options.Variance switch
        {
            // f·max + (1 − f)·min with f = (v + 1)/2; max = log β_i, min = log β̃_i clipped.
            VarianceType.LearnedRange => LearnedLogVariance(v!, s.LogBetas[index], s.PosteriorLogVarianceClipped[index]).mul_(0.5).exp_(),
            VarianceType.FixedSmall => Scalar(Math.Exp(0.5 * s.PosteriorLogVarianceClipped[index]), x),
            VarianceType.FixedLarge => Scalar(Math.Exp(0.5 * Math.Log(index == 0 && s.Length > 1 ? s.PosteriorVariance[1] : s.Betas[index])), x),
            _ => throw new InvalidOperationException($"Unknown variance type {Options.Variance}."),
        };
        return new StepPrediction(predX0.MoveToOuterDisposeScope(), eps.clone().MoveToOuterDisposeScope(),
            mean.MoveToOuterDisposeScope(), std.MoveToOuterDisposeScope());
    }

    static Tensor LearnedLogVariance(Tensor v, double maxLog, double minLog)
    {
        var frac = v.add(1.0).div_(2.0);
        return frac.mul(maxLog).add_(frac.neg().add_(1.0).mul_(minLog));
    }

    static Tensor Scalar(double value, Tensor like) => tensor(value, dtype: like.dtype, device: like.device);
}
