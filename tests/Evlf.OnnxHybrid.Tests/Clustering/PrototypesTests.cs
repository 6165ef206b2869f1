using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

public class PrototypesTests
{
    /// <summary>Three classes of latents shaped (2, 3, 3), with 30, 24 and 18 samples, interleaved.</summary>
    static (Tensor Samples, Tensor Labels) LabelledLatents()
    {
        var blobs = new[] { ClusteringData.Blobs(3, 10, 18, spread: 4, seed: 1), ClusteringData.Blobs(3, 8, 18, spread: 4, seed: 2), ClusteringData.Blobs(3, 6, 18, spread: 4, seed: 3) };
        var labels = new List<long>();
        for (int c = 0; c < 3; c++) labels.AddRange(Enumerable.Repeat((long)c, (int)blobs[c].shape[0]));
        var all = cat(blobs, 0);
        // Interleave so the class rows are not contiguous.
        using var g = new Generator(9);
        var perm = randperm(all.shape[0], generator: g);
        return (all.index_select(0, perm).reshape(-1, 2, 3, 3), tensor(labels.ToArray()).index_select(0, perm));
    }

    [Fact]
    public void EachClassGetsItsOwnKMeansCentroidsInTheSampleShape()
    {
        using var scope = NewDisposeScope();
        var (samples, labels) = LabelledLatents();
        var protos = Prototypes.ForClasses(samples, labels, 3, 3);
        try
        {
            Assert.Equal(3, protos.Count);
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(c, protos[c].ClassIndex);
                Assert.Equal(new long[] { 3, 2, 3, 3 }, protos[c].Vectors.shape);
                Assert.Null(protos[c].SampleIndices);
                // The same as k-means (default options, the anchors' seed 0) on that class alone.
                var rows = labels.eq(c).nonzero().squeeze(1);
                using var direct = KMeans.Fit(samples.index_select(0, rows).reshape(rows.shape[0], -1), 3);
                Assert.True(protos[c].Vectors.reshape(3, -1).eq(direct.Centroids).all().item<bool>(), $"class {c} prototypes differ from k-means on its rows.");
                Assert.Equal(direct.Inertia, protos[c].Inertia);
            }
        }
        finally { foreach (var p in protos) p.Dispose(); }
    }

    [Fact]
    public void ClosestRealSamplesAreRowsOfTheirClassNearestToTheCentroids()
    {
        using var scope = NewDisposeScope();
        var (samples, labels) = LabelledLatents();
        var plain = Prototypes.ForClasses(samples, labels, 3, 4);
        var snapped = Prototypes.ForClasses(samples, labels, 3, 4, new PrototypeOptions(ClosestRealSample: true));
        try
        {
            var flat = samples.reshape(samples.shape[0], -1);
            var l = labels.data<long>().ToArray();
            for (int c = 0; c < 3; c++)
            {
                var idx = snapped[c].SampleIndices!;
                Assert.Equal(4, idx.Count);
                var centroids = plain[c].Vectors.reshape(4, -1);
                for (int j = 0; j < 4; j++)
                {
                    Assert.Equal(c, l[idx[j]]);
                    Assert.True(snapped[c].Vectors[j].eq(samples[idx[j]]).all().item<bool>(), $"class {c} prototype {j} is not sample {idx[j]}.");
                    // No row of the class is nearer to centroid j.
                    var rows = labels.eq(c).nonzero().squeeze(1);
                    var d = flat.index_select(0, rows).sub(centroids[j]).square().sum(1);
                    double chosen = flat[idx[j]].sub(centroids[j]).square().sum().item<double>();
                    Assert.True(chosen <= d.min().item<double>() + 1e-12, $"class {c} prototype {j}: sample {idx[j]} is not the nearest.");
                }
            }
        }
        finally { foreach (var p in plain.Concat(snapped)) p.Dispose(); }
    }

    [Fact]
    public void PcaPrototypesLieInThePrincipalSubspaceAndMatchPlainKMeansAtFullRank()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(4, 15, 6, spread: 3, seed: 5);
        using var reduced = Prototypes.ForClass(x, 4, new PrototypeOptions(PcaComponents: 2, Pca: new PcaOptions(Solver: PcaSolver.Full)));
        using var pca = Pca.Fit(x, 2, new PcaOptions(Solver: PcaSolver.Full));
        var onPlane = pca.InverseTransform(pca.Transform(reduced.Vectors));
        Assert.True(onPlane.allclose(reduced.Vectors, rtol: 0, atol: 1e-10), "PCA prototypes are not in the span of the components.");

        // With every component, PCA is a rotation: the clustering (and so the prototypes) is the plain one.
        using var full = Prototypes.ForClass(x, 4, new PrototypeOptions(PcaComponents: 6, Pca: new PcaOptions(Solver: PcaSolver.Full)));
        using var plain = Prototypes.ForClass(x, 4);
        Assert.True(full.Vectors.allclose(plain.Vectors, rtol: 0, atol: 1e-9), "full-rank PCA prototypes differ from plain k-means.");
    }

    [Fact]
    public void MiniBatchPrototypesAreMiniBatchKMeansOverTheClassInChunks()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(3, 20, 12, spread: 4, seed: 7).reshape(60, 3, 2, 2);
        using var p = Prototypes.ForClass(x, 3, new PrototypeOptions(MiniBatchChunk: 16, MiniBatch: new MiniBatchKMeansOptions(Seed: 2)));
        Assert.Equal(new long[] { 3, 3, 2, 2 }, p.Vectors.shape);
        Assert.Equal(4, p.Iterations); // chunks of 16, 16, 16, 12

        var flat = x.reshape(60, -1);
        using var model = new MiniBatchKMeans(3, new MiniBatchKMeansOptions(Seed: 2));
        for (int start = 0; start < 60; start += 16) model.PartialFit(flat.narrow(0, start, Math.Min(16, 60 - start)));
        Assert.True(p.Vectors.reshape(3, -1).eq(model.Centroids!).all().item<bool>());
        Assert.Equal(model.Inertia(flat), p.Inertia);

        // A chunk smaller than IPC: the first chunk grows to IPC rows so k-means++ can start.
        using var small = Prototypes.ForClass(x, 5, new PrototypeOptions(MiniBatchChunk: 2));
        Assert.Equal(5, small.Vectors.shape[0]);
        Assert.True(small.Vectors.isfinite().all().item<bool>());
    }

    [Fact]
    public void IpcOutOfRangeIsAClearArgumentError()
    {
        using var scope = NewDisposeScope();
        var (samples, labels) = LabelledLatents();
        var zero = Assert.Throws<ArgumentException>(() => Prototypes.ForClasses(samples, labels, 3, 0));
        Assert.Contains("IPC (prototypes per class) must be at least 1; got 0.", zero.Message);
        var tooMany = Assert.Throws<ArgumentException>(() => Prototypes.ForClasses(samples, labels, 3, 19));
        Assert.Contains("Class 2 has 18 samples, fewer than IPC = 19", tooMany.Message);
        var missing = Assert.Throws<ArgumentException>(() => Prototypes.ForClasses(samples, labels, 4, 1));
        Assert.Contains("Class 3 has 0 samples", missing.Message);
        Assert.Contains("0 … 1", Assert.Throws<ArgumentException>(() => Prototypes.ForClasses(samples, labels, 2, 1)).Message);
        Assert.Contains("fewer than IPC = 31", Assert.Throws<ArgumentException>(() => Prototypes.ForClass(samples.narrow(0, 0, 30), 31)).Message);
    }

    [Fact]
    public void IpcEqualToTheClassSizeReturnsEverySample()
    {
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(2, 4, 5, seed: 6);
        using var p = Prototypes.ForClass(x, 8, new PrototypeOptions(ClosestRealSample: true));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), p.SampleIndices!.OrderBy(i => i));
        Assert.Equal(0.0, p.Inertia);
    }
}
