using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Incremental k-means over chunks of rows (Sculley 2010, in the per-centre running-mean form scikit-learn uses):
/// each <see cref="PartialFit"/> assigns the chunk to the current centres, then moves every centre that received
/// rows to the mean of all rows it has ever received, c ← (c·w + Σx)/(w + m), w ← w + m. The first chunk also
/// initialises the centres with k-means++ on a subsample of it, unless starting centres were given. Centres whose
/// count lags far behind the largest are moved to random rows now and then (<see cref="MiniBatchKMeansOptions.ReassignmentRatio"/>).
/// float64 data are processed in float64, other floating dtypes in float32; counts are float64.
/// </summary>
public sealed class MiniBatchKMeans : IDisposable
{
    readonly MiniBatchKMeansOptions options;
    readonly Random rng;
    Tensor? centres;
    Tensor? counts;
    long batchSize;
    long sinceReassign;

    /// <summary>A model of <paramref name="k"/> centres, initialised from the first chunk.</summary>
    public MiniBatchKMeans(int k, MiniBatchKMeansOptions? options = null)
    {
        if (k < 1) throw new ArgumentException($"Mini-batch k-means needs k ≥ 1 clusters; got k = {k}.", nameof(k));
        this.options = Checked(options ?? new MiniBatchKMeansOptions());
        K = k;
        rng = new Random(Seeds.KMeansRestart(this.options.Seed, 0));
    }

    /// <summary>A model starting from the given (k, D) centres (with zero counts) instead of a k-means++ initialisation.</summary>
    public MiniBatchKMeans(Tensor initialCentroids, MiniBatchKMeansOptions? options = null)
    {
        if (initialCentroids.dim() != 2 || initialCentroids.shape[0] < 1 || initialCentroids.shape[1] < 1 || !initialCentroids.is_floating_point())
            throw new ArgumentException($"Initial centroids must be a floating (k, D) tensor; got {initialCentroids.dtype} [{string.Join(", ", initialCentroids.shape)}].", nameof(initialCentroids));
        this.options = Checked(options ?? new MiniBatchKMeansOptions());
        K = (int)initialCentroids.shape[0];
        rng = new Random(Seeds.KMeansRestart(this.options.Seed, 0));
        var work = initialCentroids.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        centres = initialCentroids.to(work).clone().DetachFromDisposeScope();
    }

    /// <summary>k, the number of centres.</summary>
    public int K { get; }

    /// <summary>Chunks seen so far.</summary>
    public int Steps { get; private set; }

    /// <summary>The current (k, D) centres (owned by this model), or null before the first chunk when no centres were given.</summary>
    public Tensor? Centroids => centres;

    /// <summary>The (k) float64 weight of rows each centre has absorbed (reset on reassignment), or null before the first chunk.</summary>
    public Tensor? Counts => counts;

    /// <summary>
    /// One mini-batch step on <paramref name="chunk"/> (M, D). Returns the chunk's inertia against the centres it was
    /// assigned to (before they moved), as scikit-learn's step does.
    /// </summary>
    public double PartialFit(Tensor chunk)
    {
        if (chunk.dim() != 2 || chunk.shape[0] < 1 || chunk.shape[1] < 1 || !chunk.is_floating_point())
            throw new ArgumentException($"A mini-batch k-means chunk must be a floating (M, D) tensor; got {chunk.dtype} [{string.Join(", ", chunk.shape)}].", nameof(chunk));
        if (centres is not null && chunk.shape[1] != centres.shape[1])
            throw new ArgumentException($"Chunk rows have {chunk.shape[1]} features; the model's centres have {centres.shape[1]}.", nameof(chunk));
        using (var finite = chunk.isfinite().all())
            if (!finite.item<bool>()) throw new ArgumentException("Mini-batch k-means chunk contains NaN or infinite values.", nameof(chunk));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long m = chunk.shape[0], d = chunk.shape[1];
        var work = centres?.dtype ?? (chunk.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
        var x = chunk.to(work);
        if (counts is null)
        {
            batchSize = Math.Min(options.BatchSize, m);
            if (centres is null) centres = Initialise(x).DetachFromDisposeScope();
            counts = zeros(K, ScalarType.Float64, device: x.device).DetachFromDisposeScope();
        }
        bool reassign = ReassignDue();

        var norms = SquaredDistances.RowNorms(x);
        var (labels, distances) = SquaredDistances.Nearest(x, centres!, norms);
        double inertia = distances.sum().item<double>();

        var received = labels.bincount(null, K).to(ScalarType.Float64);
        var sums = zeros(K, d, work, x.device).index_add_(0, labels, x, 1);
        var weight = counts.add(received);
        var moved = centres!.mul(counts.to(work).unsqueeze(1)).add_(sums).div_(weight.clamp_min(1).to(work).unsqueeze(1));
        centres.copy_(where(received.gt(0).unsqueeze(1), moved, centres));
        counts.copy_(weight);

        if (reassign && options.ReassignmentRatio > 0) Reassign(x);
        Steps++;
        return inertia;
    }

    /// <summary>The index of each row's nearest centre (int64, N).</summary>
    public Tensor Predict(Tensor x)
    {
        if (centres is null) throw new InvalidOperationException("Mini-batch k-means has no centres yet; call PartialFit first.");
        return KMeans.Predict(x, centres);
    }

    /// <summary>Σ_i min_j ‖x_i − c_j‖² of <paramref name="x"/> against the current centres, in float64.</summary>
    public double Inertia(Tensor x)
    {
        if (centres is null) throw new InvalidOperationException("Mini-batch k-means has no centres yet; call PartialFit first.");
        using var scope = NewDisposeScope();
        var c = centres.to(x.dtype);
        var labels = KMeans.Predict(x, c);
        return SquaredDistances.Inertia(x, c, labels);
    }

    public void Dispose()
    {
        centres?.Dispose();
        counts?.Dispose();
    }

    static MiniBatchKMeansOptions Checked(MiniBatchKMeansOptions o)
    {
        if (o.BatchSize < 1) throw new ArgumentException($"MiniBatchKMeansOptions.BatchSize must be at least 1; got {o.BatchSize}.");
        if (o.InitSize is < 1) throw new ArgumentException($"MiniBatchKMeansOptions.InitSize must be at least 1; got {o.InitSize}.");
        if (!(o.ReassignmentRatio >= 0) || double.IsInfinity(o.ReassignmentRatio)) throw new ArgumentException($"MiniBatchKMeansOptions.ReassignmentRatio must be a finite number ≥ 0; got {o.ReassignmentRatio}.");
        if (o.LocalTrials is < 1) throw new ArgumentException($"MiniBatchKMeansOptions.LocalTrials must be at least 1; got {o.LocalTrials}.");
        return o;
    }

    /// <summary>k-means++ on rows drawn with replacement from the first chunk.</summary>
    Tensor Initialise(Tensor x)
    {
        long m = x.shape[0];
        if (m < K) throw new ArgumentException($"The first chunk has {m} rows; mini-batch k-means needs at least k = {K} to initialise.", nameof(x));
        long size = options.InitSize ?? Math.Max(3 * batchSize, 3L * K);
        size = Math.Min(size, m);
        var sample = x;
        if (size < m)
        {
            var rows = new long[size];
            for (long i = 0; i < size; i++) rows[i] = rng.NextInt64(m);
            sample = x.index_select(0, tensor(rows, device: x.device));
        }
        var norms = SquaredDistances.RowNorms(sample);
        var chosen = KMeansPlusPlus.Choose(sample, norms, K, options.LocalTrials ?? KMeansPlusPlus.DefaultTrials(K), rng);
        return sample.index_select(0, tensor(chosen, device: x.device)).clone();
    }

    /// <summary>scikit-learn's clock: reassign when a centre has no count, or once 10·k rows (in batch-size units) have passed.</summary>
    bool ReassignDue()
    {
        sinceReassign += batchSize;
        using var anyEmpty = counts!.eq(0).any();
        if (anyEmpty.item<bool>() || sinceReassign >= 10L * K)
        {
            sinceReassign = 0;
            return true;
        }
        return false;
    }

    /// <summary>Moves centres with count &lt; ratio × max count to distinct random rows of the chunk (at most half the chunk); their counts become the smallest remaining count.</summary>
    void Reassign(Tensor x)
    {
        var w = counts!.data<double>().ToArray();
        double threshold = options.ReassignmentRatio * w.Max();
        var low = Enumerable.Range(0, K).Where(j => w[j] < threshold).ToList();
        long cap = (long)(0.5 * x.shape[0]);
        if (low.Count > cap)
            low = Enumerable.Range(0, K).OrderBy(j => w[j]).ThenBy(j => j).Take((int)cap).Where(j => w[j] < threshold).OrderBy(j => j).ToList();
        if (low.Count == 0) return;
        var rows = KMeansPlusPlus.ChooseUniform(x.shape[0], low.Count, rng);
        double floor = Enumerable.Range(0, K).Where(j => !low.Contains(j)).Select(j => w[j]).DefaultIfEmpty(0).Min();
        var targets = tensor(low.Select(j => (long)j).ToArray(), device: x.device);
        centres!.index_copy_(0, targets, x.index_select(0, tensor(rows, device: x.device)));
        counts!.index_fill_(0, targets, floor);
    }
}
