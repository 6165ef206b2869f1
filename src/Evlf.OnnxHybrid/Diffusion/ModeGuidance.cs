using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>MGD3 mode guidance settings (docs/PIPELINES.md §3).</summary>
/// <param name="Lambda">λ, the guidance strength; 0.1 in MGD3 and EVLF.</param>
/// <param name="StopT">Guidance applies while the respaced index t &gt; stop_t; 25 of 50 steps guides t = 49 … 26.</param>
public sealed record ModeGuidanceOptions(double Lambda = 0.1, int StopT = 25);

/// <summary>
/// MGD3's mode guidance: x_{t−1} = μ_θ(x_t) + g_t + 1[t≠0]·σ_t·ε with
/// g_t = −λ·σ_t·(x̂₀ − m_j) while t &gt; stop_t and 0 after, where m_j is the mode the sample is steered to,
/// x̂₀ the conditional prediction and σ_t = exp(½·log σ²_t) the step's standard deviation.
/// </summary>
public static class ModeGuidance
{
    /// <summary>Whether the step at respaced index <paramref name="index"/> is guided.</summary>
    public static bool IsActive(int index, ModeGuidanceOptions options) => index > options.StopT;

    /// <summary>g_t for one step, or null where the step is not guided. <paramref name="modes"/> has x̂₀'s shape.</summary>
    public static Tensor? Shift(StepPrediction prediction, Tensor modes, int index, ModeGuidanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsActive(index, options)) return null;
        if (!modes.shape.SequenceEqual(prediction.PredX0.shape))
            throw new ArgumentException($"Modes of shape [{string.Join(",", modes.shape)}] do not match the samples' shape [{string.Join(",", prediction.PredX0.shape)}].", nameof(modes));
        using var scope = NewDisposeScope();
        return prediction.PredX0.sub(modes).mul_(prediction.Std).mul_(-options.Lambda).MoveToOuterDisposeScope();
    }

    /// <summary>One guided step: mean + g + σ·noise (no noise where the sampler adds none).</summary>
    public static Tensor Step(Sampler sampler, Tensor modelOutput, int index, Tensor x, Tensor modes, ModeGuidanceOptions options, Tensor? noise = null)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        using var scope = NewDisposeScope();
        var p = sampler.Predict(modelOutput, index, x);
        var next = p.Mean;
        var g = Shift(p, modes, index, options);
        if (g is not null) next = next.add(g);
        if (sampler.AddsNoise(index))
        {
            if (noise is null) throw new ArgumentNullException(nameof(noise), $"The step at respaced index {index} adds noise; pass a noise tensor shaped like x.");
            next = next.add(p.Std.mul(noise));
        }
        return next.MoveToOuterDisposeScope();
    }
}
