using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>
/// The PyTorch reference tools/export writes into a bundle: reference/reference.json lists, per component, its ONNX
/// file and a folder with inputs/*.pb and outputs/*.pb (serialized onnx TensorProto).
/// </summary>
internal sealed record ExportReference(string Component, string File, string Folder, string Root)
{
    public const string DirectoryName = "reference";
    public const string IndexFile = "reference.json";

    public static List<ExportReference> Read(string indexPath)
    {
        string root = Path.GetDirectoryName(indexPath)!;
        PathStatus.RequireFile(indexPath, "Export reference index");
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(indexPath));
            return doc.RootElement.GetProperty("components").EnumerateObject()
                .Select(c => new ExportReference(c.Name, c.Value.GetProperty("file").GetString()!, c.Value.GetProperty("folder").GetString()!, root))
                .ToList();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
        {
            throw new UserInputException($"'{indexPath}' is not a tools/export reference index ({e.Message.Split('.')[0]}); delete the reference folder or export again.");
        }
    }

    public Dictionary<string, Tensor> Inputs() => ReadTensors("inputs");

    public Dictionary<string, Tensor> Outputs() => ReadTensors("outputs");

    /// <summary>The tensors in FOLDER/kind/*.pb; the folder must stay inside the bundle's reference/ folder, and only regular files are read.</summary>
    Dictionary<string, Tensor> ReadTensors(string kind)
    {
        var folder = ConfinedPath.Resolve(Root, Path.Combine(Folder, kind), $"Export reference '{Component}': folder");
        if (!Directory.Exists(folder)) throw new UserInputException($"Export reference '{Component}': folder '{folder}' was not found; delete the reference folder or export again.");
        var tensors = new Dictionary<string, Tensor>();
        foreach (var f in Directory.GetFiles(folder, "*.pb").Where(f => PathStatus.Of(f).IsRegular).OrderBy(f => f, StringComparer.Ordinal))
        {
            try { tensors[Path.GetFileNameWithoutExtension(f)] = OnnxTensor.ToTorch(global::Onnx.TensorProto.Parser.ParseFrom(System.IO.File.ReadAllBytes(f))); }
            catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or NotSupportedException or ArgumentException)
            {
                throw new UserInputException($"Export reference tensor '{f}' could not be read ({e.Message.Split('.')[0]}); delete the reference folder or export again.", e);
            }
        }
        return tensors;
    }
}
