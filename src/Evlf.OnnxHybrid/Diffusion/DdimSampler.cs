using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>Options of the DDIM sampler.</summary>
/// <param name="Eta">η: 0 is deterministic DDIM, 1 has DDPM-like variance.</param>
/// <param name="SetAlphaToOne">
/// ᾱ_prev of the last step is 1 (IDDPM, diffusers' <c>set_alpha_to_one=True</c>); false uses the base
/// schedule's ᾱ(0), as SD 1.x's scheduler config does.
/// </param>
/// <param name="ClipDenoised">Clamp x̂₀ to [−1, 1] and re-derive ε from it (IDDPM's ddim_sample). Off by default.</param>
public sealed record DdimOptions(double Eta = 0.0, bool SetAlphaToOne = true, bool ClipDenoised = false)
{
    /// <summary>SD 1.x with diffusers' DDIMScheduler config: η 0, <c>set_alpha_to_one=False</c>.</summary>
    public static DdimOptions StableDiffusion { get; } = new(0.0, SetAlphaToOne: false);
}

/// <summary>
/// DDIM (Song et al., Eq. 12) for ε-prediction models between consecutive kept timesteps:
/// x̂₀ = (x − √(1−ᾱ_i)·ε)/√ᾱ_i, σ_i = η·√((1−ᾱ_prev)/(1−ᾱ_i))·√(1 − ᾱ_i/ᾱ_prev),
/// x_{i−1} = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ_i²)·ε + σ_i·noise.
/// A 2C-channel model output (learned variance) contributes only its first C channels.
/// </summary>
/// <remarks>
/// With <see cref="TimestepSpacingKind.Leading"/> or <see cref="TimestepSpacingKind.Trailing"/> spacing this is
/// diffusers' DDIMScheduler.step (which steps t → t − ⌊T/K⌋); with IDDPM spacing it is IDDPM's ddim_sample.
/// Noise is added at every step when η &gt; 0, as diffusers does; σ is 0 at the last step when ᾱ_prev = 1.
/// </remarks>
public sealed class DdimSampler : Sampler
{
    public DdimSampler(SpacedSchedule schedule, DdimOptions? options = null) : base(schedule)
    {
        Options = options ?? new DdimOptions();
        if (!(Options.Eta >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"DDIM η must be non-negative; got {Options.Eta}.");
    }

    public DdimOptions Options { get; }

    public override bool AddsNoise(int index) => Options.Eta > 0;

    /// <summary>ᾱ at respaced index i.</summary>
    public double AlphaCumprod(int index) => Schedule.Schedule.AlphasCumprod[index];

    /// <summary>ᾱ_prev: ᾱ of the next kept timestep below, or the final value at index 0.</summary>
    public double AlphaCumprodPrev(int index) =>
        index == 0 ? (Options.SetAlphaToOne ? 1.0 : Schedule.Base.AlphasCumprod[0]) : Schedule.Schedule.AlphasCumprod[index - 1];

    /// <summary>σ_i = η·√((1−ᾱ_prev)/(1−ᾱ_i))·√(1 − ᾱ_i/ᾱ_prev).</summary>
    public double Sigma(int index)
    {
        double a = AlphaCumprod(index), aPrev = AlphaCumprodPrev(index);
        return Options.Eta * Math.Sqrt((1.0 - aPrev) / (1.0 - a)) * Math.Sqrt(1.0 - a / aPrev);
    }

    public override StepPrediction Predict(Tensor modelOutput, int index, Tensor x)
    {
        var (epsOut, _) = SplitOutput(modelOutput, index, x);
        var s = Schedule.Schedule;
        double aPrev = AlphaCumprodPrev(index), sigma = Sigma(index);
        using var scope = NewDisposeScope();
        var predX0 = s.PredictX0FromEps(x, epsOut, index);
        var eps = epsOut;
        if (Options.ClipDenoised)
        {
            predX0.clamp_(-1.0, 1.0);
            eps = s.PredictEpsFromX0(x, predX0, index);
        }
        var mean = predX0.mul(Math.Sqrt(aPrev)).add_(eps.mul(Math.Sqrt(Math.Max(0.0, 1.0 - aPrev - sigma * sigma))));
        var std = tensor(sigma, dtype: x.dtype, device: x.device);
        return new StepPrediction(predX0.MoveToOuterDisposeScope(), eps.clone().MoveToOuterDisposeScope(),
            mean.MoveToOuterDisposeScope(), std.MoveToOuterDisposeScope());
    }
}
