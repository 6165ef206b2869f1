namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>Every ONNX op (default domain) the TorchSharp importer can run, by op type.</summary>
public static class OpRegistry
{
    static readonly Dictionary<string, OpKernel> kernels = Build();
    static readonly Dictionary<string, OpKernel> fused = BuildFused();

    static Dictionary<string, OpKernel> BuildFused()
    {
        var ops = new Dictionary<string, OpKernel>(StringComparer.Ordinal);
        FusedOps.Register(ops);
        return ops;
    }

    static Dictionary<string, OpKernel> Build()
    {
        var ops = new Dictionary<string, OpKernel>(StringComparer.Ordinal);
        ElementwiseOps.Register(ops);
        ShapeOps.Register(ops);
        NeuralOps.Register(ops);
        ReductionOps.Register(ops);
        return ops;
    }

    public static IReadOnlyCollection<string> SupportedOps => kernels.Keys;

    public static bool TryGet(string domain, string opType, out OpKernel kernel)
    {
        kernel = null!;
        if (domain == GraphFusion.Domain) return fused.TryGetValue(opType, out kernel!);
        return (domain is "" or "ai.onnx") && kernels.TryGetValue(opType, out kernel!);
    }
}
