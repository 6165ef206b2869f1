using Evlf.OnnxHybrid.Onnx;
using Google.Protobuf;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>Tensors a stage hands to the next, stored as ONNX TensorProto files (<c>name.pb</c>) in the stage folder.</summary>
public static class StageTensors
{
    public static void Save(string directory, string name, Tensor value) =>
        File.WriteAllBytes(Path.Combine(directory, name + ".pb"), OnnxTensor.FromTorch(name, value).ToByteArray());

    public static Tensor Load(string directory, string name)
    {
        string path = Path.Combine(directory, name + ".pb");
        if (!File.Exists(path)) throw new InvalidDataException($"Stage output '{path}' is missing; delete the run's .stages folder and run again.");
        return OnnxTensor.ToTorch(global::Onnx.TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)));
    }
}
