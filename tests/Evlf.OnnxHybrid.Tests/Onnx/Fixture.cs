using Evlf.OnnxHybrid.Onnx;
using Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>A model exported by tools/export-fixtures with PyTorch's inputs and outputs for it.</summary>
public sealed class Fixture
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static readonly string[] TorchExported =
        { "dit", "dit_op13", "unet", "unet_op13", "vae_decoder", "clip_text", "clip_text_op13", "bert_text", "bn_dropout", "external_data" };

    public string Name { get; }
    public string ModelPath => Path.Combine(Root, Name, "model.onnx");

    public Fixture(string name) => Name = name;

    public OnnxModel Load() => OnnxModel.Load(ModelPath);

    public Dictionary<string, Tensor> Inputs() => ReadFolder("inputs");

    public Dictionary<string, Tensor> Outputs() => ReadFolder("outputs");

    Dictionary<string, Tensor> ReadFolder(string sub) =>
        Directory.GetFiles(Path.Combine(Root, Name, sub), "*.pb")
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => OnnxTensor.ToTorch(TensorProto.Parser.ParseFrom(File.ReadAllBytes(f))));
}
