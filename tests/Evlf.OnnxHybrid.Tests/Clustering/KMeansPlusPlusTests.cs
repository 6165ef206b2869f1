using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

public class KMeansPlusPlusTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(7, 3)]
    [InlineData(8, 4)]
    [InlineData(10, 4)]
    [InlineData(100, 6)]
    public void DefaultTrialsAreTwoPlusFloorLnK(int k, int expected) => Assert.Equal(expected, KMeansPlusPlus.DefaultTrials(k));

    [Fact]
    public void SeedsOneCentrePerWellSeparatedBlob()
    {
        // 10 blobs 100σ apart: D² weighting makes a second seed in an already-seeded blob ~1e-4 likely;
        // uniform seeding covers all 10 blobs with probability 10!/10^10 ≈ 4e-4.
        using var scope = NewDisposeScope();
        var x = ClusteringData.Blobs(10, 30, 4, spread: 100);
        var norms = SquaredDistances.RowNorms(x);
        for (int seed = 0; seed < 10; seed++)
        {
            var chosen = KMeansPlusPlus.Choose(x, norms, 10, KMeansPlusPlus.DefaultTrials(10), new Random(seed));
            var blobs = chosen.Select(i => i / 30).Distinct().Count();
            Assert.True(blobs == 10, $"seed {seed}: k-means++ seeded only {blobs} of 10 blobs ({string.Join(",", chosen)}).");
        }
    }

    [Fact]
    public void NeverPicksARowThatAlreadyIsACentreWhileOthersRemain()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var x = randn(12, 3, ScalarType.Float64, generator: g);
        var norms = SquaredDistances.RowNorms(x);
        for (int seed = 0; seed < 20; seed++)
        {
            var chosen = KMeansPlusPlus.Choose(x, norms, 12, 3, new Random(seed));
            Assert.Equal(12, chosen.Distinct().Count());
        }
    }

    [Fact]
    public void UniformChoiceIsDistinctAndInRange()
    {
        var rng = new Random(1);
        var all = KMeansPlusPlus.ChooseUniform(9, 9, rng);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), all.OrderBy(i => i));
        for (int t = 0; t < 50; t++)
        {
            var some = KMeansPlusPlus.ChooseUniform(1000, 5, rng);
            Assert.Equal(5, some.Distinct().Count());
            Assert.All(some, i => Assert.InRange(i, 0, 999));
        }
    }
}
