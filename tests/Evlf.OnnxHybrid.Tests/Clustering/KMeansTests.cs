using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

public class KMeansTests
{
    [Fact]
    public void SameSeedGivesIdenticalCentroids()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(8, 40, 12, spread: 2);
        var options = new KMeansOptions(NInit: 3, Seed: 7);
        using var a = KMeans.Fit(x, 8, options);
        using var b = KMeans.Fit(x, 8, options);
        Assert.True(a.Centroids.eq(b.Centroids).all().item<bool>(), "Centroids differ between two runs with the same seed.");
        Assert.True(a.Labels.eq(b.Labels).all().item<bool>());
        Assert.Equal(a.Inertia, b.Inertia);
        Assert.Equal(a.Iterations, b.Iterations);
    }

    [Fact]
    public void SeedsSteerTheInitialisation()
    {
        // Uniform data have many local minima: different seeds must reach different ones.
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var x = rand(300, 3, ScalarType.Float64, generator: g);
        var inertias = Enumerable.Range(0, 8).Select(seed =>
        {
            using var r = KMeans.Fit(x, 12, new KMeansOptions(Seed: seed));
            return Math.Round(r.Inertia, 9);
        }).Distinct().Count();
        Assert.True(inertias >= 2, "Eight seeds all gave the same clustering of uniform data; the seed seems unused.");
    }

    [Fact]
    public void KEqualToNGivesZeroInertiaAndEveryRowItsOwnCluster()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var x = randn(40, 5, ScalarType.Float64, generator: g);
        using var r = KMeans.Fit(x, 40);
        Assert.Equal(0.0, r.Inertia);
        Assert.Equal(40, r.Labels.unique().Item1.shape[0]);
        // Each row is its centroid.
        Assert.True(r.Centroids.index_select(0, r.Labels).allclose(x, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void KOneGivesTheMean()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(3, 20, 6, spread: 5);
        using var r = KMeans.Fit(x, 1);
        var rows = x.data<double>().ToArray();
        for (int j = 0; j < 6; j++)
        {
            double mean = Enumerable.Range(0, 60).Average(i => rows[i * 6 + j]);
            Assert.Equal(mean, r.Centroids[0, j].item<double>(), 1e-12);
        }
        double expected = Enumerable.Range(0, 60).Sum(i => Enumerable.Range(0, 6).Sum(j =>
        {
            double dv = rows[i * 6 + j] - r.Centroids[0, j].item<double>();
            return dv * dv;
        }));
        Assert.Equal(expected, r.Inertia, 1e-9);
        Assert.True(r.Converged);
    }

    [Fact]
    public void LabelsAreNearestCentroidsAndCentroidsAreTheirMeans()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(6, 50, 10, spread: 3);
        using var r = KMeans.Fit(x, 6);
        Assert.True(r.Converged);

        long n = x.shape[0], d = x.shape[1];
        var xv = x.data<double>().ToArray();
        var cv = r.Centroids.data<double>().ToArray();
        var labels = r.Labels.data<long>().ToArray();
        double inertia = 0;
        for (long i = 0; i < n; i++)
        {
            var dist = Enumerable.Range(0, 6).Select(c => Enumerable.Range(0, (int)d).Sum(f => Math.Pow(xv[i * d + f] - cv[c * d + f], 2))).ToArray();
            Assert.True(dist[labels[i]] <= dist.Min() * (1 + 1e-12), $"row {i} is labelled {labels[i]} but is nearer to {Array.IndexOf(dist, dist.Min())}.");
            inertia += dist[labels[i]];
        }
        Assert.Equal(inertia, r.Inertia, 1e-9 * inertia);

        var means = ClusteringData.GroupMeans(x, r.Labels, 6);
        for (int c = 0; c < 6; c++)
            for (int f = 0; f < d; f++)
                Assert.True(Math.Abs(means[c, f] - cv[c * d + f]) <= 1e-10, $"centroid {c}[{f}] = {cv[c * d + f]} is not its cluster's mean {means[c, f]}.");

        using var predicted = KMeans.Predict(x, r.Centroids);
        Assert.True(predicted.eq(r.Labels).all().item<bool>());
    }

    [Fact]
    public void MoreClustersThanDistinctRowsLeavesNoNaNAndZeroInertia()
    {
        // 3 distinct points, 10 copies each, k = 5: the seeding must repeat rows and Lloyd meets empty clusters
        // with nothing left to relocate (every row sits on a centre).
        using var scope = NewDisposeScope();
        var points = tensor(new double[] { 0, 0, 5, 5, -3, 4 }).reshape(3, 2);
        var x = points.repeat_interleave(10, 0);
        using var r = KMeans.Fit(x, 5, new KMeansOptions(NInit: 2));
        // Zero up to the rounding of a mean of ten equal (centred) values.
        Assert.True(r.Inertia <= 1e-24, $"inertia {r.Inertia:R}");
        Assert.True(r.Centroids.isfinite().all().item<bool>());
        var c = r.Centroids.data<double>().ToArray();
        var p = new[] { (0.0, 0.0), (5.0, 5.0), (-3.0, 4.0) };
        for (int j = 0; j < 5; j++)
            Assert.True(p.Any(q => Math.Abs(q.Item1 - c[2 * j]) < 1e-12 && Math.Abs(q.Item2 - c[2 * j + 1]) < 1e-12), $"centroid {j} = ({c[2 * j]}, {c[2 * j + 1]}) is none of the three points.");
        // Every row is labelled with a centroid that sits on it.
        var d = SquaredDistances.ToAssigned(x, r.Centroids, r.Labels);
        Assert.True(d.max().item<double>() <= 1e-24);
    }

    [Fact]
    public void AnEmptyClusterTakesTheFarthestRow()
    {
        // Centre 1 starts far from everything, so no row is nearest to it in the first iteration.
        // Rows: a tight group near 0 and one outlier at 10. The outlier is the farthest from its centre (0),
        // so it must become cluster 1 on its own.
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 0, 0.1, -0.1, 0.2, 10 }).reshape(5, 1);
        var init = tensor(new double[] { 0, 1000 }).reshape(2, 1);
        using var r = KMeans.FitFrom(x, init, new KMeansOptions(Tolerance: 0));
        Assert.Equal(new long[] { 0, 0, 0, 0, 1 }, r.Labels.data<long>().ToArray());
        Assert.Equal(10.0, r.Centroids[1, 0].item<double>(), 12);
        Assert.Equal(0.05, r.Centroids[0, 0].item<double>(), 12);
    }

    [Fact]
    public void Float32RunsInFloat32AndAgreesWithFloat64()
    {
        using var scope = NewDisposeScope();
        var x64 = ClusteringData.Blobs(5, 40, 32, spread: 4);
        var x32 = x64.to(ScalarType.Float32);
        using var r64 = KMeans.Fit(x64, 5);
        using var r32 = KMeans.Fit(x32, 5);
        Assert.Equal(ScalarType.Float32, r32.Centroids.dtype);
        Assert.Equal(ScalarType.Float64, r64.Centroids.dtype);
        Assert.True(Math.Abs(r32.Inertia - r64.Inertia) <= 1e-5 * r64.Inertia, $"float32 inertia {r32.Inertia} vs float64 {r64.Inertia}.");
        Assert.True(r32.Labels.eq(r64.Labels).all().item<bool>());
    }

    [Fact]
    public void ChunkingDoesNotChangeTheResult()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(4, 25, 7, spread: 2);
        using var whole = KMeans.Fit(x, 4, new KMeansOptions(Seed: 3));
        using var chunked = KMeans.Fit(x, 4, new KMeansOptions(Seed: 3, ChunkElements: 5));
        Assert.True(whole.Labels.eq(chunked.Labels).all().item<bool>());
        Assert.True(whole.Centroids.allclose(chunked.Centroids, rtol: 0, atol: 1e-12));
        Assert.Equal(whole.Iterations, chunked.Iterations);
    }

    [Fact]
    public void MoreRestartsNeverEndWorse()
    {
        // The first restart of NInit = 5 is the NInit = 1 run (same derived seed), so keeping the best cannot lose.
        using var scope = NewDisposeScope();
        using var g = new Generator(8);
        var x = rand(200, 4, ScalarType.Float64, generator: g);
        using var one = KMeans.Fit(x, 8, new KMeansOptions(NInit: 1, Seed: 2));
        using var five = KMeans.Fit(x, 8, new KMeansOptions(NInit: 5, Seed: 2));
        Assert.True(five.Inertia <= one.Inertia);
    }

    [Fact]
    public void BadInputsAreRejectedWithAClearMessage()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(2, 5, 3);
        Assert.Contains("k ≥ 1", Assert.Throws<ArgumentException>(() => KMeans.Fit(x, 0)).Message);
        Assert.Contains("at most the number of rows", Assert.Throws<ArgumentException>(() => KMeans.Fit(x, 11)).Message);
        Assert.Contains("(N, D)", Assert.Throws<ArgumentException>(() => KMeans.Fit(x.reshape(2, 5, 3), 2)).Message);
        Assert.Contains("floating", Assert.Throws<ArgumentException>(() => KMeans.Fit(x.to(ScalarType.Int64), 2)).Message);
        var withNaN = x.clone();
        withNaN[3, 1] = tensor(double.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => KMeans.Fit(withNaN, 2)).Message);
        Assert.Contains("NInit", Assert.Throws<ArgumentException>(() => KMeans.Fit(x, 2, new KMeansOptions(NInit: 0))).Message);
        Assert.Contains("MaxIterations", Assert.Throws<ArgumentException>(() => KMeans.Fit(x, 2, new KMeansOptions(MaxIterations: 0))).Message);
        Assert.Contains("Tolerance", Assert.Throws<ArgumentException>(() => KMeans.Fit(x, 2, new KMeansOptions(Tolerance: -1))).Message);
        Assert.Contains("(k, 3)", Assert.Throws<ArgumentException>(() => KMeans.FitFrom(x, zeros(2, 4, ScalarType.Float64))).Message);
    }

    [Fact]
    public void DefaultsAreTheAnchors()
    {
        var o = new KMeansOptions();
        Assert.Equal((1, 300, 1e-4, 0, KMeansInit.KMeansPlusPlus, (int?)null), (o.NInit, o.MaxIterations, o.Tolerance, o.Seed, o.Init, o.LocalTrials));
    }
}
