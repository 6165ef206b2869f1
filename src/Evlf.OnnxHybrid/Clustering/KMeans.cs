using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// k-means on the rows of a (N, D) tensor: k-means++ (or uniform) seeding, <see cref="KMeansOptions.NInit"/>
/// restarts keeping the lowest inertia, and Lloyd iterations — the anchors' scikit-learn KMeans
/// (docs/PIPELINES.md §2 stage B, §3), written from its documented behaviour:
/// <list type="bullet">
/// <item>the data are centred on their mean first (better rounding in ‖x‖² − 2x·c + ‖c‖²) and the mean is added back;</item>
/// <item>an iteration assigns every row to its nearest centre, then moves each centre to the mean of its rows;</item>
/// <item>a centre left without rows takes the row farthest from its own centre (largest first), which leaves its old cluster;
/// unlike scikit-learn, rows already on their centre are never moved, so when every row sits on a centre (k above the
/// number of distinct rows) the surplus clusters stay empty and keep their centres;</item>
/// <item>Lloyd stops when the labels repeat, or when the squared centre shift Σ‖c − c′‖² ≤ tol · mean per-feature variance;</item>
/// <item>the returned labels and inertia are those of the final centres.</item>
/// </list>
/// float64 input is clustered in float64; every other floating dtype in float32. Inertia is always summed in float64.
/// Restart r draws from its own System.Random seeded by a hash of (Seed, r), so runs are reproducible on one machine
/// (the matrix products may round differently on another BLAS). Memory: one centred copy of x plus chunks.
/// </summary>
public static class KMeans
{
    /// <summary>Clusters the rows of <paramref name="x"/> (N, D) into <paramref name="k"/> groups.</summary>
    /// <exception cref="ArgumentException">x is not a finite floating (N, D) tensor, or k is not in 1..N, or an option is out of range.</exception>
    public static KMeansResult Fit(Tensor x, int k, KMeansOptions? options = null)
    {
        var o = options ?? new KMeansOptions();
        o.Validate();
        CheckData(x, nameof(x));
        long n = x.shape[0];
        if (k < 1) throw new ArgumentException($"k-means needs k ≥ 1 clusters; got k = {k}.", nameof(k));
        if (k > n) throw new ArgumentException($"k-means cannot make k = {k} clusters from {n} rows; k must be at most the number of rows.", nameof(k));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var data = CenteredData.Of(x, o.Tolerance);
        int trials = o.LocalTrials ?? KMeansPlusPlus.DefaultTrials(k);

        LloydRun? best = null;
        for (int init = 0; init < o.NInit; init++)
        {
            var rng = new Random(Seeds.KMeansRestart(o.Seed, init));
            long[] seeds = o.Init == KMeansInit.KMeansPlusPlus
                ? KMeansPlusPlus.Choose(data.X, data.Norms, k, trials, rng)
                : KMeansPlusPlus.ChooseUniform(n, k, rng);
            using var seedIndex = tensor(seeds, device: x.device);
            var run = Lloyd(data, data.X.index_select(0, seedIndex), o);
            if (best is null || run.Inertia < best.Inertia)
            {
                best?.Dispose();
                best = run;
            }
            else run.Dispose();
        }
        using var kept = best!;
        return kept.ToResult(data, x.dtype);
    }

    /// <summary>
    /// Lloyd iterations from given starting centres (k, D) instead of a seeding; NInit and Seed are not used.
    /// </summary>
    public static KMeansResult FitFrom(Tensor x, Tensor initialCentroids, KMeansOptions? options = null)
    {
        var o = options ?? new KMeansOptions();
        o.Validate();
        CheckData(x, nameof(x));
        if (initialCentroids.dim() != 2 || initialCentroids.shape[1] != x.shape[1] || initialCentroids.shape[0] < 1)
            throw new ArgumentException($"Initial centroids must be (k, {x.shape[1]}) with k ≥ 1; got [{string.Join(", ", initialCentroids.shape)}].", nameof(initialCentroids));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var data = CenteredData.Of(x, o.Tolerance);
        var start = initialCentroids.to(data.X.dtype, data.X.device).sub(data.Mean);
        using var run = Lloyd(data, start, o);
        return run.ToResult(data, x.dtype);
    }

    /// <summary>The index of each row's nearest centroid (int64, N).</summary>
    public static Tensor Predict(Tensor x, Tensor centroids)
    {
        using var scope = NewDisposeScope();
        var c = centroids.to(x.dtype, x.device);
        var (labels, _) = SquaredDistances.Nearest(x, c);
        return labels.MoveToOuterDisposeScope();
    }

    static void CheckData(Tensor x, string name)
    {
        if (x.dim() != 2 || x.shape[0] < 1 || x.shape[1] < 1)
            throw new ArgumentException($"k-means expects a (N, D) tensor with N, D ≥ 1; got shape [{string.Join(", ", x.shape)}].", name);
        if (!x.is_floating_point())
            throw new ArgumentException($"k-means expects floating-point data; got {x.dtype}.", name);
    }

    /// <summary>
    /// One Lloyd run from <paramref name="centres"/> (centred coordinates, owned by the run from here on).
    /// </summary>
    static LloydRun Lloyd(CenteredData data, Tensor centres, KMeansOptions o)
    {
        var x = data.X;
        long n = x.shape[0], d = x.shape[1], k = centres.shape[0];
        centres = centres.contiguous().clone().DetachFromDisposeScope();
        using var previous = full(n, -1L, ScalarType.Int64, device: x.device);
        bool converged = false;
        int iterations = 0;
        while (iterations < o.MaxIterations)
        {
            iterations++;
            using var step = NewDisposeScope();
            var (labels, _) = SquaredDistances.Nearest(x, centres, data.Norms, o.ChunkElements);
            var counts = labels.bincount(null, k);
            var sums = zeros(k, d, x.dtype, x.device).index_add_(0, labels, x, 1);
            RelocateEmpty(x, centres, labels, sums, counts, o.ChunkElements);

            var next = sums.div_(counts.clamp_min(1).to(x.dtype).unsqueeze(1));
            var stillEmpty = counts.eq(0);
            if (stillEmpty.any().item<bool>())
                next = where(stillEmpty.unsqueeze(1), centres, next);
            double shift = next.sub(centres).pow_(2).sum(ScalarType.Float64).item<double>();
            centres.copy_(next);

            bool sameLabels = previous.eq(labels).all().item<bool>();
            previous.copy_(labels);
            if (sameLabels || shift <= data.Tolerance)
            {
                converged = true;
                break;
            }
        }

        // Labels and inertia of the final centres (the last assignment saw the centres before the last update).
        using var final = NewDisposeScope();
        var (finalLabels, _) = SquaredDistances.Nearest(x, centres, data.Norms, o.ChunkElements);
        double inertia = SquaredDistances.Inertia(x, centres, finalLabels, o.ChunkElements);
        return new LloydRun(centres, finalLabels.DetachFromDisposeScope(), inertia, iterations, converged);
    }

    /// <summary>
    /// Gives every empty cluster the row farthest from its assigned (pre-update) centre, farthest first; that row
    /// is taken out of its old cluster's sum. Rows already on their centre are never moved, so a cluster can stay
    /// empty when every row sits on a centre (then its centre is kept).
    /// </summary>
    static void RelocateEmpty(Tensor x, Tensor centres, Tensor labels, Tensor sums, Tensor counts, long chunkElements)
    {
        var empty = counts.eq(0).nonzero().squeeze(1);
        int nEmpty = (int)empty.shape[0];
        if (nEmpty == 0) return;
        using var scope = NewDisposeScope();
        var distances = SquaredDistances.ToAssigned(x, centres, labels, chunkElements);
        var (farDistance, farIndex) = distances.topk(nEmpty);
        var emptyIds = empty.data<long>().ToArray();
        var farIds = farIndex.data<long>().ToArray();
        var farD = farDistance.data<double>().ToArray();
        var labelIds = labels.index_select(0, farIndex).data<long>().ToArray();
        for (int i = 0; i < nEmpty; i++)
        {
            if (!(farD[i] > 0)) break;
            var row = x[farIds[i]];
            sums[labelIds[i]].sub_(row);
            counts[labelIds[i]].sub_(1);
            sums[emptyIds[i]].copy_(row);
            counts[emptyIds[i]].fill_(1);
        }
    }

    /// <summary>The data in the working dtype, centred on its mean, with the row norms and the absolute tolerance.</summary>
    sealed class CenteredData : IDisposable
    {
        public required Tensor X { get; init; }
        public required Tensor Mean { get; init; }
        public required Tensor Norms { get; init; }
        public required double Tolerance { get; init; }

        public static CenteredData Of(Tensor x, double relativeTolerance)
        {
            using var scope = NewDisposeScope();
            var work = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            var xw = x.to(work);
            var mean = xw.mean([0L]);
            var xc = xw.sub(mean).contiguous();
            var norms = SquaredDistances.RowNorms(xc);
            // A NaN or ±∞ anywhere makes the mean, hence every centred row of its column, and so the norms non-finite:
            // checking N norms is much cheaper than checking N·D values.
            using (var finite = norms.isfinite().all())
                if (!finite.item<bool>())
                    throw new ArgumentException("k-means data contain NaN or infinite values (or values too large to square in their dtype).", nameof(x));
            // mean_j Var(x_{·j}) = Σ_ij (x_ij − μ_j)² / (N·D), with the data already centred.
            double meanVariance = norms.sum(ScalarType.Float64).item<double>() / (x.shape[0] * (double)x.shape[1]);
            return new CenteredData
            {
                X = xc.DetachFromDisposeScope(),
                Mean = mean.DetachFromDisposeScope(),
                Norms = norms.DetachFromDisposeScope(),
                Tolerance = relativeTolerance * meanVariance,
            };
        }

        public void Dispose()
        {
            X.Dispose();
            Mean.Dispose();
            Norms.Dispose();
        }
    }

    /// <summary>One restart's outcome, centres still in centred coordinates.</summary>
    sealed class LloydRun(Tensor centres, Tensor labels, double inertia, int iterations, bool converged) : IDisposable
    {
        public double Inertia => inertia;

        public KMeansResult ToResult(CenteredData data, ScalarType dtype)
        {
            var centroids = centres.add(data.Mean).to(dtype).MoveToOuterDisposeScope();
            return new KMeansResult(centroids, labels.clone().MoveToOuterDisposeScope(), inertia, iterations, converged);
        }

        public void Dispose()
        {
            centres.Dispose();
            labels.Dispose();
        }
    }
}
