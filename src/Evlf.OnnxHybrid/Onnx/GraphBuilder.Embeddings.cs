using TorchSharp;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Embedding tables and the sinusoidal timestep embedding.</summary>
public sealed partial class GraphBuilder
{
    /// <summary>
    /// torch.nn.Embedding: Gather rows of <c>name.weight</c> [numEmbeddings, embeddingDim] by integer ids of
    /// any shape (output: ids.shape + [embeddingDim]). Default init (PyTorch): N(0, 1).
    /// </summary>
    public Value Embedding(string name, Value ids, int numEmbeddings, int embeddingDim, ParameterInit? weightInit = null)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentException($"Embedding '{QualifiedName(name)}': table size {numEmbeddings}×{embeddingDim} must be positive.");
        using (Scope(name))
        {
            var table = Parameter("weight", new long[] { numEmbeddings, embeddingDim }, weightInit ?? ParameterInit.Normal(1));
            return Gather(table, ids, 0);
        }
    }

    /// <summary>
    /// Sinusoidal embedding of timesteps (N,) — int64, int32 or float — computed in the graph:
    /// freqs_i = exp(−ln(maxPeriod)·i / (half − downscaleFreqShift)), i &lt; half = dim/2;
    /// args = scale·t·freqs; output [cos(args), sin(args)] (cosFirst, DiT's TimestepEmbedder and SD's
    /// flip_sin_to_cos=True) or [sin, cos]; an odd dim gets a zero column at the end. The frequency table
    /// is computed with libtorch float32 ops in the order the PyTorch code uses, so it is PyTorch's table.
    /// </summary>
    public Value SinusoidalEmbedding(Value timesteps, int dim, bool cosFirst = true, double maxPeriod = 10000,
        double downscaleFreqShift = 0, double scale = 1)
    {
        var m = Meta(timesteps);
        if (dim < 2) throw new ArgumentOutOfRangeException(nameof(dim), dim, "A sinusoidal embedding needs at least 2 dimensions.");
        if (m.Shape is not null && m.Shape.Length != 1)
            throw new ArgumentException($"SinusoidalEmbedding: timesteps '{timesteps.Name}' have shape {Format(m.Shape)}; expected (N,).");
        if (m.Type is not (ElementType.Int64 or ElementType.Int32 or ElementType.Float or ElementType.Double))
            throw new ArgumentException($"SinusoidalEmbedding: timesteps '{timesteps.Name}' are {m.Type}; expected an integer or float type.");
        int half = dim / 2;
        if (half - downscaleFreqShift == 0) throw new ArgumentException("SinusoidalEmbedding: half − downscaleFreqShift must not be 0.");

        float[] freqs;
        using (torch.NewDisposeScope())
        {
            var exponent = torch.arange(0, half, dtype: torch.ScalarType.Float32).mul(-Math.Log(maxPeriod)).div(half - downscaleFreqShift);
            freqs = exponent.exp().data<float>().ToArray();
        }

        var t = m.Type == ElementType.Float ? timesteps : Cast(timesteps, ElementType.Float);
        var args = Mul(Unsqueeze(t, 1), Constant(freqs, 1, half));   // (N, half)
        if (scale != 1) args = Mul(args, scale);
        var cos = Cos(args);
        var sin = Sin(args);
        var embedding = cosFirst ? Concat(-1, cos, sin) : Concat(-1, sin, cos);
        if (dim % 2 == 1)
        {
            var shape = Meta(embedding).Shape;
            embedding = Emit1("Pad", new Value?[] { embedding, Int64Vector(0, 0, 0, 1) }, ElementType.Float,
                shape is null ? null : new[] { shape[0], (Dim)dim });
        }
        return embedding;
    }
}
