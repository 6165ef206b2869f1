using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

public class MiniBatchKMeansTests
{
    /// <summary>partial_fit over fixed chunks from given centres, reassignment off, reproduces scikit-learn's centres and counts.</summary>
    [Fact]
    public void PartialFitFromFixedCentresMatchesScikitLearn()
    {
        var v = ClusteringVectors.Open("minibatch_exact_d5");
        using var scope = NewDisposeScope();
        var x = v.Tensor("x");
        using var model = new MiniBatchKMeans(v.Tensor("init"), new MiniBatchKMeansOptions(ReassignmentRatio: 0));
        int chunk = v.Int("chunk");
        for (long start = 0; start < x.shape[0]; start += chunk)
            model.PartialFit(x.narrow(0, start, Math.Min(chunk, x.shape[0] - start)));
        Assert.Equal(v.Int("steps"), model.Steps);
        Assert.Equal(v.Tensor("counts").data<double>().ToArray(), model.Counts!.data<double>().ToArray());
        var expected = v.Tensor("centroids");
        double err = model.Centroids!.sub(expected).abs().max().item<double>();
        Assert.True(err <= 1e-10 * expected.abs().max().item<double>(), $"centres differ from scikit-learn by {err:E2}.");
    }

    /// <summary>One pass in chunks of 100 over well-separated blobs reaches scikit-learn's best full k-means inertia, as scikit-learn's MiniBatchKMeans does.</summary>
    [Fact]
    public void OnePassOverBlobsReachesTheFullKMeansOptimum()
    {
        var v = ClusteringVectors.Open("minibatch_quality_blobs_d16");
        using var scope = NewDisposeScope();
        var x = v.Tensor("x");
        int chunk = v.Int("chunk");
        double best = v.Double("lloyd_best_inertia");
        for (int seed = 0; seed < 3; seed++)
        {
            using var model = new MiniBatchKMeans(v.Int("k"), new MiniBatchKMeansOptions(Seed: seed));
            for (long start = 0; start < x.shape[0]; start += chunk)
                model.PartialFit(x.narrow(0, start, Math.Min(chunk, x.shape[0] - start)));
            double inertia = model.Inertia(x);
            Assert.True(inertia <= best * (1 + 1e-3), $"seed {seed}: mini-batch inertia {inertia:R} > best k-means {best:R} × (1 + 1e-3) (scikit-learn's mini-batch mean: {v.Double("mean_inertia"):R}).");
        }
    }

    [Fact]
    public void SameSeedSameCentres()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(5, 40, 8, spread: 3);
        var perm = randperm(200, generator: new Generator(3));
        x = x.index_select(0, perm);
        Tensor Run()
        {
            using var model = new MiniBatchKMeans(5, new MiniBatchKMeansOptions(Seed: 4));
            for (int s = 0; s < 200; s += 50) model.PartialFit(x.narrow(0, s, 50));
            return model.Centroids!.clone();
        }
        Assert.True(Run().eq(Run()).all().item<bool>());
    }

    [Fact]
    public void AStarvedCentreIsMovedOntoARowOfTheChunk()
    {
        // Centre 2 starts far away and receives nothing; the first step (all counts zero) is a reassignment step,
        // and with count 0 < 0.01 × max it must move onto one of the chunk's rows and take the smallest other count.
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(2, 30, 3, spread: 5, seed: 2);
        var init = stack([x[0], x[30], full(3, 1e4, ScalarType.Float64)]);
        using var model = new MiniBatchKMeans(init, new MiniBatchKMeansOptions(Seed: 1));
        model.PartialFit(x);
        var moved = model.Centroids![2];
        var d = x.sub(moved).square().sum(1).min().item<double>();
        Assert.Equal(0.0, d);
        var counts = model.Counts!.data<double>().ToArray();
        Assert.Equal(Math.Min(counts[0], counts[1]), counts[2]);
        Assert.Equal(60.0, counts[0] + counts[1]);

        using var frozen = new MiniBatchKMeans(init, new MiniBatchKMeansOptions(ReassignmentRatio: 0));
        frozen.PartialFit(x);
        Assert.Equal(1e4, frozen.Centroids![2, 0].item<double>());
    }

    [Fact]
    public void BadChunksAreRejected()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(2, 5, 3);
        using var model = new MiniBatchKMeans(4);
        Assert.Contains("at least k = 4", Assert.Throws<ArgumentException>(() => model.PartialFit(x.narrow(0, 0, 3))).Message);
        model.PartialFit(x);
        Assert.Contains("features", Assert.Throws<ArgumentException>(() => model.PartialFit(zeros(4, 2, ScalarType.Float64))).Message);
        Assert.Throws<ArgumentException>(() => new MiniBatchKMeans(0));
        Assert.Throws<InvalidOperationException>(() => new MiniBatchKMeans(2).Predict(x));
    }
}
