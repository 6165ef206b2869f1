using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

/// <summary>Small seeded data sets for property tests (the reference data sets come from scikit-learn instead).</summary>
public static class ClusteringData
{
    /// <summary><paramref name="clusters"/> Gaussian blobs of <paramref name="perCluster"/> rows, centres ~ N(0, spread²), unit noise.</summary>
    public static Tensor Blobs(int clusters, int perCluster, int dims, double spread = 10, ulong seed = 1, ScalarType dtype = ScalarType.Float64)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(seed);
        var centres = randn(clusters, dims, ScalarType.Float64, generator: g).mul_(spread);
        var noise = randn(clusters * perCluster, dims, ScalarType.Float64, generator: g);
        var x = centres.repeat_interleave(perCluster, 0).add_(noise);
        return x.to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The (k, D) means of the rows of x grouped by labels, computed row by row in float64.</summary>
    public static double[,] GroupMeans(Tensor x, Tensor labels, int k)
    {
        long n = x.shape[0], d = x.shape[1];
        var values = x.to(ScalarType.Float64).data<double>().ToArray();
        var l = labels.data<long>().ToArray();
        var sums = new double[k, d];
        var counts = new long[k];
        for (long i = 0; i < n; i++)
        {
            counts[l[i]]++;
            for (long j = 0; j < d; j++) sums[l[i], j] += values[i * d + j];
        }
        for (int c = 0; c < k; c++)
            for (long j = 0; j < d; j++) sums[c, j] /= Math.Max(1, counts[c]);
        return sums;
    }
}
