using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>
/// The parts of one reverse step: x_{i−1} = <see cref="Mean"/> + <see cref="Std"/>·noise. The tensors
/// are new and owned by the holder; <see cref="Dispose"/> releases all four.
/// </summary>
public sealed class StepPrediction : IDisposable
{
    public StepPrediction(Tensor predX0, Tensor eps, Tensor mean, Tensor std)
    {
        PredX0 = predX0;
        Eps = eps;
        Mean = mean;
        Std = std;
    }

    /// <summary>x̂₀, the predicted clean sample (clipped if the sampler clips).</summary>
    public Tensor PredX0 { get; }

    /// <summary>ε, the predicted noise (the first C channels of the model output).</summary>
    public Tensor Eps { get; }

    /// <summary>The mean of x_{i−1}.</summary>
    public Tensor Mean { get; }

    /// <summary>σ: shaped like x for a learned variance, a 0-d tensor otherwise (broadcasts either way).</summary>
    public Tensor Std { get; }

    public void Dispose()
    {
        PredX0.Dispose();
        Eps.Dispose();
        Mean.Dispose();
        Std.Dispose();
    }
}
