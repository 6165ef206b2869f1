namespace Evlf.OnnxHybrid.Onnx;

/// <summary>torch.nn.functional.gelu's <c>approximate</c> argument.</summary>
public enum GeluApproximation
{
    /// <summary>Exact: 0.5·x·(1 + erf(x/√2)).</summary>
    None,

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as DiT's MLP uses.</summary>
    Tanh,
}

/// <summary>Activations and dropout.</summary>
public sealed partial class GraphBuilder
{
    public Value Relu(Value x) => Unary("Relu", x);

    public Value Sigmoid(Value x) => Unary("Sigmoid", x);

    public Value Tanh(Value x) => Unary("Tanh", x);

    /// <summary>SiLU / swish: x·sigmoid(x) (Sigmoid + Mul; opset 17 has no SiLU op).</summary>
    public Value Silu(Value x) => Mul(x, Sigmoid(x));

    /// <summary>GELU from elementary ops (opset 17 has no Gelu): Erf-based or the tanh approximation.</summary>
    public Value Gelu(Value x, GeluApproximation approximate = GeluApproximation.None)
    {
        RequireFloat(x, "Gelu");
        Value inner = approximate switch
        {
            GeluApproximation.None => Erf(Mul(x, 1 / Math.Sqrt(2))),
            // √(2/π)·(x + 0.044715·x³)
            GeluApproximation.Tanh => Tanh(Mul(Add(x, Mul(Mul(Mul(x, x), x), 0.044715)), Math.Sqrt(2 / Math.PI))),
            _ => throw new ArgumentOutOfRangeException(nameof(approximate)),
        };
        return Mul(Mul(x, Add(inner, 1.0)), 0.5);
    }

    /// <summary>
    /// Dropout with probability <paramref name="p"/> (ONNX Dropout, ratio as an input, training_mode
    /// absent = inference): identity in ONNX Runtime; the importer drops in train mode. p = 0 emits nothing.
    /// </summary>
    public Value Dropout(Value x, double p)
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        if (p == 0) return x;
        RequireFloat(x, "Dropout");
        var m = Meta(x);
        return Emit1("Dropout", new Value?[] { x, Scalar(p, ElementType.Float) }, m.Type, m.Shape);
    }
}
