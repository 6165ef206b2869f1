using Evlf.OnnxHybrid.Tests.Diffusion;

namespace Evlf.OnnxHybrid.Tests.Clustering;

/// <summary>
/// The cases written by tools/reference/kmeans_reference.py (scikit-learn), read with the shared
/// <see cref="ReferenceVectors"/> layout (onnx TensorProto .pb files and params.json).
/// </summary>
public static class ClusteringVectors
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Clustering", "Vectors");

    public static ReferenceVectors Open(string caseName) => new(Root, caseName, "tools/reference/kmeans_reference.py");

    /// <summary>The names of all cases whose name starts with <paramref name="prefix"/>.</summary>
    public static IEnumerable<object[]> Cases(string prefix) => ReferenceVectors.Cases(Root, prefix);
}
