using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Greedy k-means++ seeding: the first centre is a uniformly drawn row; each next one is the best of
/// <c>trials</c> rows drawn with probability ∝ D(x)², the squared distance to the nearest centre so far,
/// "best" meaning the draw that leaves the smallest potential Σ_x D(x)² (Arthur and Vassilvitskii 2007;
/// the greedy variant scikit-learn uses, with 2 + ⌊ln k⌋ trials).
/// </summary>
public static class KMeansPlusPlus
{
    /// <summary>The number of greedy trials per centre scikit-learn uses: 2 + ⌊ln k⌋.</summary>
    public static int DefaultTrials(int k) => 2 + (int)Math.Log(k);

    /// <summary>
    /// Row indices of the k chosen centres of <paramref name="x"/> (N, D). <paramref name="xNorms"/> are the rows'
    /// ‖x‖²; all draws come from <paramref name="rng"/>.
    /// </summary>
    public static long[] Choose(Tensor x, Tensor xNorms, int k, int trials, Random rng)
    {
        long n = x.shape[0];
        var chosen = new long[k];
        chosen[0] = rng.NextInt64(n);

        using var scope = NewDisposeScope();
        // D(x)² in float64: the potential is a sum over all rows and the draws walk its running total.
        var closest = SquaredDistances.Pairwise(x, x.narrow(0, chosen[0], 1), xNorms).squeeze(1).to(ScalarType.Float64);
        closest[chosen[0]].fill_(0.0);
        var weights = new double[n];
        var cumulative = new double[n];
        var candidates = new long[trials];

        for (int c = 1; c < k; c++)
        {
            using var step = NewDisposeScope();
            closest.data<double>().CopyTo(weights);
            double total = 0;
            for (long i = 0; i < n; i++) cumulative[i] = total += weights[i];
            for (int t = 0; t < trials; t++) candidates[t] = Draw(cumulative, total, rng);

            var candidateIndex = tensor(candidates, device: x.device);
            var d = SquaredDistances.Pairwise(x, x.index_select(0, candidateIndex), xNorms).to(ScalarType.Float64);
            var after = d.minimum(closest.unsqueeze(1));           // (N, trials): D² if the candidate were added
            for (int t = 0; t < trials; t++) after[candidates[t], t].fill_(0.0); // a chosen row is its own centre
            var potentials = after.sum(0L); // 0L: a bare 0 would bind to sum(ScalarType)
            int best = (int)potentials.argmin().item<long>();
            chosen[c] = candidates[best];
            closest.copy_(after.select(1, best));
        }
        return chosen;
    }

    /// <summary>k distinct rows drawn uniformly (a partial Fisher–Yates shuffle).</summary>
    public static long[] ChooseUniform(long n, int k, Random rng)
    {
        // Only the first k positions of the permutation are needed; the rest are tracked sparsely.
        var swapped = new Dictionary<long, long>();
        var chosen = new long[k];
        for (int i = 0; i < k; i++)
        {
            long j = i + rng.NextInt64(n - i);
            long atJ = swapped.TryGetValue(j, out var vj) ? vj : j;
            long atI = swapped.TryGetValue(i, out var vi) ? vi : i;
            swapped[j] = atI;
            chosen[i] = atJ;
        }
        return chosen;
    }

    /// <summary>The row whose slice of the running total holds a uniform draw in [0, total).</summary>
    static long Draw(double[] cumulative, double total, Random rng)
    {
        long n = cumulative.Length;
        // Every row already sits on a centre (duplicates, or k > distinct rows): any row is as good.
        if (!(total > 0)) return rng.NextInt64(n);
        double r = rng.NextDouble() * total;
        // First i with cumulative[i] > r: rows of zero weight own an empty slice and are never drawn.
        long lo = 0, hi = n - 1;
        while (lo < hi)
        {
            long mid = (lo + hi) >> 1;
            if (cumulative[mid] > r) hi = mid; else lo = mid + 1;
        }
        // r rounded up to the total: take the last row that has weight.
        while (lo > 0 && cumulative[lo] <= r && cumulative[lo] == cumulative[lo - 1]) lo--;
        return lo;
    }
}
