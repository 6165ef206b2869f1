using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

/// <summary>
/// One case written by tools/reference/kmeans_reference.py (scikit-learn): its tensors (onnx TensorProto .pb
/// files) and its scalars (params.json).
/// </summary>
public sealed class ClusteringVectors
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Clustering", "Vectors");

    readonly string folder;
    readonly JsonElement parameters;

    public ClusteringVectors(string caseName)
    {
        folder = Path.Combine(Root, caseName);
        Assert.True(Directory.Exists(folder), $"Reference case '{caseName}' is missing under {Root}; regenerate with tools/reference/kmeans_reference.py.");
        parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "params.json"))).RootElement.Clone();
    }

    /// <summary>The names of all cases whose name starts with <paramref name="prefix"/>.</summary>
    public static IEnumerable<object[]> Cases(string prefix) =>
        Directory.GetDirectories(Root, prefix + "*").Select(d => new object[] { Path.GetFileName(d) }).OrderBy(c => (string)c[0]);

    /// <summary>A new tensor with the stored values and dtype.</summary>
    public Tensor Tensor(string name)
    {
        string path = Path.Combine(folder, name + ".pb");
        Assert.True(File.Exists(path), $"Reference tensor '{name}' is missing in {folder}.");
        return OnnxTensor.ToTorch(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)));
    }

    public int Int(string key) => parameters.GetProperty(key).GetInt32();

    public double Double(string key) => parameters.GetProperty(key).GetDouble();
}
