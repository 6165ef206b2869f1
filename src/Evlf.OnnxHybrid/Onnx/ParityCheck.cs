using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Runs one graph in ONNX Runtime and in the TorchSharp importer on the same inputs and compares every output.</summary>
public static class ParityCheck
{
    public sealed record OutputDiff(string Name, long[] Shape, double MaxAbsDiff, double MaxAbsValue);

    public static List<OutputDiff> Run(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, SessionSettings? settings = null)
    {
        using var scope = NewDisposeScope();
        using var session = OnnxSession.FromModel(model, settings ?? new SessionSettings(ExecutionDevice.Cpu));
        var ort = session.Run(inputs);
        using var module = OnnxTorchModule.FromModel(model);
        module.eval();
        Dictionary<string, Tensor> torchOut;
        using (no_grad()) torchOut = module.forward(inputs);
        var result = new List<OutputDiff>();
        foreach (var name in module.OutputNames)
        {
            var a = ort[name].to(ScalarType.Float64);
            var b = torchOut[name].to(ScalarType.Float64);
            if (!a.shape.SequenceEqual(b.shape))
                throw new InvalidOperationException($"Output '{name}': ONNX Runtime gives shape [{string.Join(",", a.shape)}], the importer [{string.Join(",", b.shape)}].");
            double diff = a.NumberOfElements == 0 ? 0 : (a - b).abs().max().item<double>();
            double scale = a.NumberOfElements == 0 ? 0 : a.abs().max().item<double>();
            result.Add(new OutputDiff(name, a.shape, diff, scale));
        }
        return result;
    }
}
