using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Export;

/// <summary>
/// A bundle written by tools/export from a random-initialised configuration (Fixtures/Export/&lt;name&gt;), with the
/// PyTorch outputs the script computed for fixed inputs: reference/reference.json lists each component's ONNX file
/// and its folder of inputs/*.pb and outputs/*.pb (serialized onnx TensorProto).
/// </summary>
public sealed class ExportedBundle
{
    /// <summary>dit-tiny: DiT + 3-level VAE, fp16 weights, external data. sd-tiny: SD-1.x-shaped VAE, UNet, CLIP, float32.</summary>
    public static readonly string[] Names = { "dit-tiny", "sd-tiny" };

    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Export");

    public string Name { get; }
    public string Directory => Path.Combine(Root, Name);

    public ExportedBundle(string name) => Name = name;

    /// <summary>Component name → ONNX file (relative to the bundle), from reference/reference.json.</summary>
    public IReadOnlyDictionary<string, string> Components
    {
        get
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "reference", "reference.json")));
            return doc.RootElement.GetProperty("components").EnumerateObject()
                .ToDictionary(c => c.Name, c => c.Value.GetProperty("file").GetString()!);
        }
    }

    public string ModelPath(string component) => Path.Combine(Directory, Components[component]);

    public Dictionary<string, Tensor> Inputs(string component) => Read(component, "inputs");

    public Dictionary<string, Tensor> Outputs(string component) => Read(component, "outputs");

    Dictionary<string, Tensor> Read(string component, string kind) =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, "reference", component, kind), "*.pb")
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => OnnxTensor.ToTorch(TensorProto.Parser.ParseFrom(File.ReadAllBytes(f))));

    /// <summary>(bundle, component) pairs for theories.</summary>
    public static IEnumerable<object[]> AllComponents() =>
        Names.SelectMany(n => new ExportedBundle(n).Components.Keys.Select(c => new object[] { n, c }));
}
