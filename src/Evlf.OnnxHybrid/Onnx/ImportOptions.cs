using System.Text.RegularExpressions;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>How an ONNX graph becomes a TorchSharp module.</summary>
/// <param name="Trainable">Float initializers whose names match become trainable Parameters; null = all float
/// initializers except exporter/builder constants (<see cref="IsConstantName"/>).</param>
/// <param name="Frozen">Initializers whose names match stay frozen even when <paramref name="Trainable"/> matches.</param>
/// <param name="FoldConstants">Evaluate, once at load time, nodes whose inputs never change.</param>
public sealed record ImportOptions(Regex? Trainable = null, Regex? Frozen = null, bool FoldConstants = true)
{
    public static ImportOptions Default { get; } = new();

    /// <summary>Every float initializer trainable, constants included (what <c>evlf inspect --train-check</c> uses).</summary>
    public static ImportOptions AllTrainable { get; } = new(new Regex(".*"));

    /// <summary>
    /// Names that denote constants rather than weights: torch.onnx's folded helpers that are not
    /// MatMul/Gemm weights (<c>onnx::Mul_12</c>, …) and GraphBuilder's constants (prefix <c>const/</c>).
    /// </summary>
    public static bool IsConstantName(string name) =>
        name.StartsWith(GraphConstants.Prefix, StringComparison.Ordinal)
        || (name.StartsWith("onnx::", StringComparison.Ordinal)
            && !name.StartsWith("onnx::MatMul_", StringComparison.Ordinal)
            && !name.StartsWith("onnx::Gemm_", StringComparison.Ordinal)
            && !name.StartsWith("onnx::Conv_", StringComparison.Ordinal)
            && !name.StartsWith("onnx::Add_", StringComparison.Ordinal));

    public bool IsTrainable(string name) =>
        (Trainable is null ? !IsConstantName(name) : Trainable.IsMatch(name)) && !(Frozen?.IsMatch(name) ?? false);
}

/// <summary>Naming rule shared by GraphBuilder and the importer for initializers that are not parameters.</summary>
public static class GraphConstants
{
    public const string Prefix = "const/";
}
