using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

/// <summary>
/// One case written by a tools/reference script (by default diffusion_reference.py): its tensors (onnx
/// TensorProto .pb files) and its scalar parameters (params.json).
/// </summary>
public sealed class ReferenceVectors
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Diffusion", "Vectors");

    readonly string folder;
    readonly JsonElement parameters;

    public ReferenceVectors(string caseName) : this(Root, caseName, "tools/reference/diffusion_reference.py") { }

    /// <summary>A case under another vectors folder, written by <paramref name="script"/> (named in the failure message).</summary>
    public ReferenceVectors(string root, string caseName, string script)
    {
        folder = Path.Combine(root, caseName);
        Assert.True(Directory.Exists(folder), $"Reference case '{caseName}' is missing under {root}; regenerate with {script}.");
        parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "params.json"))).RootElement.Clone();
    }

    /// <summary>The names of all cases whose name starts with <paramref name="prefix"/>.</summary>
    public static IEnumerable<object[]> Cases(string prefix) => Cases(Root, prefix);

    /// <summary>The names of all cases under <paramref name="root"/> whose name starts with <paramref name="prefix"/>.</summary>
    public static IEnumerable<object[]> Cases(string root, string prefix) =>
        Directory.GetDirectories(root, prefix + "*").Select(d => new object[] { Path.GetFileName(d) }).OrderBy(c => (string)c[0]);

    /// <summary>A new tensor with the stored values and dtype.</summary>
    public Tensor Tensor(string name)
    {
        string path = Path.Combine(folder, name + ".pb");
        Assert.True(File.Exists(path), $"Reference tensor '{name}' is missing in {folder}.");
        return OnnxTensor.ToTorch(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)));
    }

    public double[] Doubles(string name)
    {
        using var t = Tensor(name);
        using var d = t.to(ScalarType.Float64);
        return d.data<double>().ToArray();
    }

    public int[] Ints(string name)
    {
        using var t = Tensor(name);
        using var d = t.to(ScalarType.Int64);
        return d.data<long>().Select(v => checked((int)v)).ToArray();
    }

    public int Int(string key) => parameters.GetProperty(key).GetInt32();

    public double Double(string key) => parameters.GetProperty(key).GetDouble();

    public bool Bool(string key) => parameters.GetProperty(key).GetBoolean();

    public string String(string key) => parameters.GetProperty(key).GetString()!;

    public int[] IntArray(string key) => parameters.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
