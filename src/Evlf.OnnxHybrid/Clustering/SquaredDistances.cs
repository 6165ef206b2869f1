using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Squared Euclidean distances between rows by the expansion ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², one matrix
/// product per chunk of rows so memory stays bounded by <see cref="DefaultChunkElements"/> distances.
/// Rounding can make the expansion slightly negative for coincident points; results are clamped at 0.
/// Callers that care about precision centre the data first (k-means does), which keeps ‖x‖² small.
/// </summary>
public static class SquaredDistances
{
    /// <summary>Distances held at once per chunk (rows × centres); 2²² float64 values are 32 MiB.</summary>
    public const long DefaultChunkElements = 1L << 22;

    /// <summary>‖x_i‖² for each row of a (N, D) tensor, in x's dtype.</summary>
    public static Tensor RowNorms(Tensor x)
    {
        // The norm reduces without materialising x² (an N×D temporary); squaring it costs ~1 ulp. Tensor.norm takes p as a
        // number: TorchSharp's linalg.vector_norm wraps ord in a Scalar nothing keeps alive, which the finalizer can free
        // while libtorch reads it ("Unknown scalar type", one CI run). Both give the same bits.
        using var norms = x.norm(1, false, 2);
        return norms.square();
    }

    /// <summary>The full (N, K) matrix of squared distances between the rows of <paramref name="x"/> and of <paramref name="c"/>, in x's dtype.</summary>
    public static Tensor Pairwise(Tensor x, Tensor c, Tensor? xNorms = null)
    {
        using var scope = NewDisposeScope();
        var xn = xNorms ?? RowNorms(x);
        var cn = RowNorms(c);
        // addmm: ‖x‖² + ‖c‖² − 2·x·cᵀ in one kernel over the (N, K) output.
        var d = xn.unsqueeze(1).add(cn.unsqueeze(0)).addmm_(x, c.t(), beta: 1, alpha: -2);
        return d.clamp_min_(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For each row of <paramref name="x"/> (N, D) the index of its nearest row of <paramref name="c"/> (K, D)
    /// (int64, ties go to the lower index) and that squared distance (float64, clamped at 0).
    /// </summary>
    public static (Tensor Labels, Tensor Distances) Nearest(Tensor x, Tensor c, Tensor? xNorms = null, long chunkElements = DefaultChunkElements)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], k = c.shape[0];
        var xn = xNorms ?? RowNorms(x);
        var cn = RowNorms(c).unsqueeze(0);
        var ct = c.t();
        var labels = empty(n, ScalarType.Int64, device: x.device);
        var distances = empty(n, ScalarType.Float64, device: x.device);
        long rows = Math.Max(1, chunkElements / Math.Max(1, k));
        for (long start = 0; start < n; start += rows)
        {
            long len = Math.Min(rows, n - start);
            using var chunk = NewDisposeScope();
            // ‖c‖² − 2x·c decides the argmin; ‖x‖² is added back only for the distance itself.
            var partial = cn.expand(len, k).addmm(x.narrow(0, start, len), ct, beta: 1, alpha: -2);
            var (minValue, minIndex) = partial.min(1);
            labels.narrow(0, start, len).copy_(minIndex);
            distances.narrow(0, start, len).copy_(minValue.add_(xn.narrow(0, start, len)).clamp_min_(0));
        }
        return (labels.MoveToOuterDisposeScope(), distances.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Σ_i ‖x_i − c_{label_i}‖², computed directly (not by the expansion) and accumulated in float64, in row
    /// chunks of about <paramref name="chunkElements"/> values.
    /// </summary>
    public static double Inertia(Tensor x, Tensor c, Tensor labels, long chunkElements = DefaultChunkElements)
    {
        using var perRow = ToAssigned(x, c, labels, chunkElements);
        return perRow.sum().item<double>();
    }

    /// <summary>‖x_i − c_{label_i}‖² for each row, computed directly (row sums in x's dtype), returned in float64.</summary>
    public static Tensor ToAssigned(Tensor x, Tensor c, Tensor labels, long chunkElements = DefaultChunkElements)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], d = Math.Max(1, x.shape[1]);
        long rows = Math.Max(1, chunkElements / d);
        var result = empty(n, ScalarType.Float64, device: x.device);
        for (long start = 0; start < n; start += rows)
        {
            long len = Math.Min(rows, n - start);
            using var chunk = NewDisposeScope();
            var diff = x.narrow(0, start, len).sub(c.index_select(0, labels.narrow(0, start, len)));
            result.narrow(0, start, len).copy_(RowNorms(diff));
        }
        return result.MoveToOuterDisposeScope();
    }
}
