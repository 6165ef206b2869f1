using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>
/// Where an img2img run enters a K-step schedule, as diffusers' img2img pipelines choose it:
/// init = min(⌊K·strength⌋, K), start at position K − init of the descending timesteps, so init
/// model evaluations follow. The clean latent is noised to that step's timestep with q_sample.
/// </summary>
/// <remarks>
/// D4M (docs/PIPELINES.md §6) runs PNDM, whose 50-step list repeats one timestep (51 entries: 981, 961, 961,
/// 941, …, 1), so strength 0.7 starts at t = 701 with 36 evaluations. On the same leading/offset-1
/// timesteps, DDIM's list has no repeat and the same rule gives t = 681 with 35 evaluations.
/// </remarks>
public sealed class Img2ImgStart
{
    readonly SpacedSchedule schedule;

    Img2ImgStart(SpacedSchedule schedule, double strength, int index)
    {
        this.schedule = schedule;
        Strength = strength;
        Index = index;
    }

    /// <summary>The entry point for <paramref name="strength"/> in (0, 1] on <paramref name="schedule"/>.</summary>
    public static Img2ImgStart Create(SpacedSchedule schedule, double strength)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!(strength > 0 && strength <= 1))
            throw new ArgumentOutOfRangeException(nameof(strength), $"img2img strength must lie in (0, 1]; got {strength}.");
        int k = schedule.Count;
        int init = Math.Min((int)(k * strength), k);
        if (init == 0)
            throw new ArgumentOutOfRangeException(nameof(strength), $"img2img strength {strength} over {k} steps takes no denoising step; use at least {1.0 / k:G4}.");
        // Descending position K − init is respaced index init − 1.
        return new Img2ImgStart(schedule, strength, init - 1);
    }

    public double Strength { get; }

    /// <summary>The respaced index of the first denoising step.</summary>
    public int Index { get; }

    /// <summary>The model timestep the latent is noised to and the first evaluation uses.</summary>
    public int Timestep => schedule.TimestepMap[Index];

    /// <summary>Number of model evaluations (indices <see cref="Index"/> … 0).</summary>
    public int Evaluations => Index + 1;

    /// <summary>x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·noise at <see cref="Timestep"/> of the base schedule.</summary>
    public Tensor Noise(Tensor x0, Tensor noise) => schedule.Base.AddNoise(x0, noise, Timestep);
}
