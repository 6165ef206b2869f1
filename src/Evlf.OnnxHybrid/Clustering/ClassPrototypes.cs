using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// The IPC prototypes of one class. <see cref="Vectors"/> is new and owned by the holder; <see cref="Dispose"/> releases it.
/// </summary>
public sealed class ClassPrototypes : IDisposable
{
    public ClassPrototypes(int classIndex, Tensor vectors, long[]? sampleIndices, double inertia, int iterations)
    {
        ClassIndex = classIndex;
        Vectors = vectors;
        SampleIndices = sampleIndices;
        Inertia = inertia;
        Iterations = iterations;
    }

    /// <summary>The class these prototypes belong to.</summary>
    public int ClassIndex { get; }

    /// <summary>(IPC, …) prototypes shaped like one input sample, in the input's dtype.</summary>
    public Tensor Vectors { get; }

    /// <summary>With closest-real-sample on, the row of the input each prototype is (it may repeat); otherwise null.</summary>
    public IReadOnlyList<long>? SampleIndices { get; }

    /// <summary>The k-means inertia in the space that was clustered.</summary>
    public double Inertia { get; }

    /// <summary>Lloyd iterations of the kept k-means run.</summary>
    public int Iterations { get; }

    public void Dispose() => Vectors.Dispose();
}
