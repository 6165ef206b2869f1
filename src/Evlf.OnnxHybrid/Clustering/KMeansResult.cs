using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// The kept k-means run. The tensors are new and owned by the holder; <see cref="Dispose"/> releases them.
/// </summary>
public sealed class KMeansResult : IDisposable
{
    public KMeansResult(Tensor centroids, Tensor labels, double inertia, int iterations, bool converged)
    {
        Centroids = centroids;
        Labels = labels;
        Inertia = inertia;
        Iterations = iterations;
        Converged = converged;
    }

    /// <summary>(k, D) cluster centres, in the input's dtype.</summary>
    public Tensor Centroids { get; }

    /// <summary>(N) int64 index of each row's nearest centroid.</summary>
    public Tensor Labels { get; }

    /// <summary>Σ_i ‖x_i − c_{label_i}‖², accumulated in float64.</summary>
    public double Inertia { get; }

    /// <summary>Lloyd iterations the kept run took.</summary>
    public int Iterations { get; }

    /// <summary>Whether the kept run met the tolerance (or its labels stopped changing) before MaxIterations.</summary>
    public bool Converged { get; }

    public void Dispose()
    {
        Centroids.Dispose();
        Labels.Dispose();
    }
}
