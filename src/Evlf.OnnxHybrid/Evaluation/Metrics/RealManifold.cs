using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>
/// The real samples R (N×D) with their k-nearest-neighbour balls: r_i is the Euclidean distance from R_i to its
/// k-th nearest other real sample (Naeem et al. 2020, §3). Fitted once and reused to score any number of fake sets
/// with <see cref="Score"/>. Everything is float64; the N×N and M×N distance matrices are computed in row chunks
/// of about <c>chunkElements</c> values, so memory stays bounded whatever N and M are. Comparisons are made
/// between squared distances (‖F_j − R_i‖² ≤ r_i²), which is exact for small-integer coordinates.
/// </summary>
public sealed class RealManifold : IDisposable
{
    RealManifold(Tensor features, Tensor squaredRadii, int k)
    {
        Features = features;
        SquaredRadii = squaredRadii;
        K = k;
    }

    /// <summary>R, float64 (N, D).</summary>
    public Tensor Features { get; }

    /// <summary>r_i², float64 (N).</summary>
    public Tensor SquaredRadii { get; }

    public int K { get; }

    /// <summary>N.</summary>
    public int Count => (int)Features.shape[0];

    /// <summary>r_i (N), a new tensor.</summary>
    public Tensor Radii() => SquaredRadii.sqrt();

    /// <summary>Computes every real sample's k-th-nearest-neighbour radius, self excluded.</summary>
    /// <exception cref="ArgumentException">real is not a finite floating (N, D) tensor with N ≥ k + 1, or k &lt; 1.</exception>
    public static RealManifold Fit(Tensor real, int k = DensityCoverage.DefaultK, long chunkElements = SquaredDistances.DefaultChunkElements)
    {
        if (k < 1) throw new ArgumentException($"k must be 1 or more; got {k}.", nameof(k));
        CheckFeatures(real, nameof(real));
        long n = real.shape[0];
        if (n < k + 1)
            throw new ArgumentException($"The k = {k} nearest-neighbour radius needs at least {k + 1} real samples; got {n}.", nameof(real));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var r = real.to(ScalarType.Float64).contiguous();
        var norms = SquaredDistances.RowNorms(r);
        var radii = empty(n, ScalarType.Float64, device: r.device);
        long rows = Math.Max(1, chunkElements / n);
        for (long start = 0; start < n; start += rows)
        {
            long len = Math.Min(rows, n - start);
            using var chunk = NewDisposeScope();
            var d = SquaredDistances.Pairwise(r.narrow(0, start, len), r, norms.narrow(0, start, len)).contiguous();
            // A sample is not its own neighbour: put +∞ at (i, start + i) so the k-th smallest is the k-th other.
            var diagonal = arange(len, ScalarType.Int64, device: r.device).mul_(n + 1).add_(start);
            d.view(-1L).index_fill_(0, diagonal, double.PositiveInfinity);
            var (smallest, _) = d.topk(k, 1, largest: false, sorted: true);
            radii.narrow(0, start, len).copy_(smallest.select(1, k - 1));
        }
        return new RealManifold(r.MoveToOuterDisposeScope(), radii.MoveToOuterDisposeScope(), k);
    }

    /// <summary>Density, coverage and in-manifold fraction of <paramref name="fake"/> (M, D) against these balls.</summary>
    /// <exception cref="ArgumentException">fake is not a finite floating (M, D) tensor with M ≥ 1 and the real features' D.</exception>
    public DensityCoverage Score(Tensor fake, long chunkElements = SquaredDistances.DefaultChunkElements)
    {
        CheckFeatures(fake, nameof(fake));
        if (fake.shape[1] != Features.shape[1])
            throw new ArgumentException($"Fake features have {fake.shape[1]} dimensions but the real ones have {Features.shape[1]}.", nameof(fake));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long m = fake.shape[0], n = Features.shape[0];
        var f = fake.to(ScalarType.Float64).to(Features.device).contiguous();
        var fNorms = SquaredDistances.RowNorms(f);
        var bound = SquaredRadii.unsqueeze(0);
        var covered = zeros(n, ScalarType.Bool, device: Features.device);
        long inside = 0, inManifold = 0;
        long rows = Math.Max(1, chunkElements / n);
        for (long start = 0; start < m; start += rows)
        {
            long len = Math.Min(rows, m - start);
            using var chunk = NewDisposeScope();
            var d = SquaredDistances.Pairwise(f.narrow(0, start, len), Features, fNorms.narrow(0, start, len));
            var within = d.le(bound);                                  // (len, N): F_j inside the ball of R_i
            inside += within.sum(ScalarType.Int64).item<long>();
            inManifold += within.any(1).sum(ScalarType.Int64).item<long>();
            covered.logical_or_(within.any(0));
        }
        long coveredCount = covered.sum(ScalarType.Int64).item<long>();
        return new DensityCoverage(
            Density: inside / ((double)K * m),
            Coverage: coveredCount / (double)n,
            InManifold: inManifold / (double)m,
            RealCount: (int)n,
            FakeCount: (int)m,
            K: K);
    }

    public void Dispose()
    {
        Features.Dispose();
        SquaredRadii.Dispose();
    }

    static void CheckFeatures(Tensor x, string name)
    {
        if (x.dim() != 2 || x.shape[0] < 1 || x.shape[1] < 1 || !x.is_floating_point())
            throw new ArgumentException($"Features must be a floating (rows, dimensions) tensor with at least one row; got {x.dtype} [{string.Join(", ", x.shape)}].", name);
        using var finite = x.isfinite().all();
        if (!finite.item<bool>()) throw new ArgumentException("Features contain NaN or infinite values.", name);
    }
}
