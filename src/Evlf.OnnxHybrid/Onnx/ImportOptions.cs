using System.Text.RegularExpressions;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>How an ONNX graph becomes a TorchSharp module.</summary>
/// <param name="Trainable">Float initializers whose names match become trainable Parameters; null = all float
/// initializers except exporter constants (<see cref="IsConstantName"/>) and those the model lists as frozen
/// (GraphBuilder's <c>evlf.frozen_initializers</c> metadata).</param>
/// <param name="Frozen">Initializers whose names match stay frozen even when <paramref name="Trainable"/> matches.</param>
/// <param name="FoldConstants">Evaluate, once at load time, nodes whose inputs never change.</param>
/// <param name="Fuse">Run recognised layer patterns (SiLU, erf GELU, GroupNorm) as one TorchSharp op each (<see cref="GraphFusion"/>).</param>
public sealed record ImportOptions(Regex? Trainable = null, Regex? Frozen = null, bool FoldConstants = true, bool Fuse = true)
{
    public static ImportOptions Default { get; } = new();

    /// <summary>Every float initializer trainable, constants included (what the command line's train check uses).</summary>
    public static ImportOptions AllTrainable { get; } = new(new Regex(".*"));

    /// <summary>
    /// Names that denote constants rather than weights: hand-made graphs' <c>const/</c> prefix, and
    /// torch.onnx's <c>onnx::Slice_*</c>/<c>onnx::Constant_*</c>-style helpers. Weights torch renamed while
    /// folding (<c>onnx::MatMul_*</c>, <c>onnx::Mul_*</c> GroupNorm gammas, <c>onnx::Add_*</c> betas, Conv/Gemm) stay weights.
    /// </summary>
    public static bool IsConstantName(string name) =>
        name.StartsWith("const/", StringComparison.Ordinal)
        || (name.StartsWith("onnx::", StringComparison.Ordinal)
            && !(name.StartsWith("onnx::MatMul_", StringComparison.Ordinal)
                 || name.StartsWith("onnx::Gemm_", StringComparison.Ordinal)
                 || name.StartsWith("onnx::Conv_", StringComparison.Ordinal)
                 || name.StartsWith("onnx::Mul_", StringComparison.Ordinal)
                 || name.StartsWith("onnx::Add_", StringComparison.Ordinal)));

    /// <param name="name">Name of a float initializer.</param>
    /// <param name="modelFrozen">Initializers the model itself declares frozen (fixed tables, running statistics).</param>
    public bool IsTrainable(string name, IReadOnlySet<string> modelFrozen) =>
        (Trainable is null ? !IsConstantName(name) && !modelFrozen.Contains(name) : Trainable.IsMatch(name))
        && !(Frozen?.IsMatch(name) ?? false);
}
