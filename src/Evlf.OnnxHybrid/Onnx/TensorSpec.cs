using Microsoft.ML.OnnxRuntime.Tensors;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// What a model input or output must look like: name, element type, rank, and optionally fixed sizes
/// (null entries are free, e.g. the batch). Used to check a model when it loads.
/// </summary>
public sealed record TensorSpec(string Name, TensorElementType ElementType, int Rank, long?[]? Dims = null)
{
    /// <summary>Float inputs may be stored as float16 in the model; the session converts at the boundary.</summary>
    public bool AcceptsFloat16 { get; init; } = true;

    public override string ToString() =>
        $"{Name}: {ElementType}[{(Dims is null ? string.Join(",", Enumerable.Repeat("?", Rank)) : string.Join(",", Dims.Select(d => d?.ToString() ?? "?")))}]";
}

/// <summary>The inputs and outputs a caller relies on; a model may have more outputs than listed.</summary>
public sealed record ModelSignature(IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs);
