using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>
/// One reverse-diffusion update rule over a <see cref="SpacedSchedule"/>: the diffusers-scheduler
/// surface (timesteps, step) with the step split into its parts so guidance can act between them.
/// Indices are respaced indices, walked from <c>Schedule.Count − 1</c> down to 0.
/// </summary>
public abstract class Sampler
{
    protected Sampler(SpacedSchedule schedule) => Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));

    /// <summary>The timesteps this sampler walks and the model timestep of each.</summary>
    public SpacedSchedule Schedule { get; }

    /// <summary>x̂₀, ε, the mean of x_{i−1} and its standard deviation σ, from the model output at index i.</summary>
    public abstract StepPrediction Predict(Tensor modelOutput, int index, Tensor x);

    /// <summary>Whether the update at <paramref name="index"/> adds σ·noise (so a noise tensor must be drawn).</summary>
    public abstract bool AddsNoise(int index);

    /// <summary>x_{i−1} = mean + σ·noise (noise ignored, and may be null, where <see cref="AddsNoise"/> is false).</summary>
    public Tensor Step(Tensor modelOutput, int index, Tensor x, Tensor? noise = null)
    {
        using var scope = NewDisposeScope();
        var p = Predict(modelOutput, index, x);
        if (!AddsNoise(index)) return p.Mean.MoveToOuterDisposeScope();
        if (noise is null) throw new ArgumentNullException(nameof(noise), $"The step at respaced index {index} adds noise; pass a noise tensor shaped like x.");
        return p.Mean.add(p.Std.mul(noise)).MoveToOuterDisposeScope();
    }

    /// <summary>Checks the index and splits the model output (N, C or 2C, …) into ε and, if present, the other C channels.</summary>
    protected (Tensor Eps, Tensor? Variance) SplitOutput(Tensor modelOutput, int index, Tensor x)
    {
        if (index < 0 || index >= Schedule.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Respaced index {index} is outside 0..{Schedule.Count - 1}.");
        if (x.dim() < 2 || modelOutput.dim() != x.dim() || modelOutput.shape[0] != x.shape[0] || !modelOutput.shape.Skip(2).SequenceEqual(x.shape.Skip(2)))
            throw new ArgumentException($"Model output shape [{string.Join(",", modelOutput.shape)}] does not match sample shape [{string.Join(",", x.shape)}]: expected (N, C or 2C, …).", nameof(modelOutput));
        long c = x.shape[1];
        if (modelOutput.shape[1] == c) return (modelOutput, null);
        if (modelOutput.shape[1] == 2 * c) return (modelOutput.narrow(1, 0, c), modelOutput.narrow(1, c, c));
        throw new ArgumentException($"Model output has {modelOutput.shape[1]} channels; expected {c} (ε) or {2 * c} (ε and variance) for a {c}-channel sample.", nameof(modelOutput));
    }
}
