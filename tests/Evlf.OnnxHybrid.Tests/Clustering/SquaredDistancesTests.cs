using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

public class SquaredDistancesTests
{
    static double[,] BruteForce(Tensor x, Tensor c)
    {
        long n = x.shape[0], k = c.shape[0], d = x.shape[1];
        var xv = x.to(ScalarType.Float64).data<double>().ToArray();
        var cv = c.to(ScalarType.Float64).data<double>().ToArray();
        var result = new double[n, k];
        for (long i = 0; i < n; i++)
            for (long j = 0; j < k; j++)
            {
                double s = 0;
                for (long f = 0; f < d; f++) { double diff = xv[i * d + f] - cv[j * d + f]; s += diff * diff; }
                result[i, j] = s;
            }
        return result;
    }

    [Fact]
    public void PairwiseMatchesTheDirectSumOfSquares()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var x = randn(37, 9, ScalarType.Float64, generator: g);
        var c = randn(5, 9, ScalarType.Float64, generator: g).mul_(2);
        var expected = BruteForce(x, c);
        var actual = SquaredDistances.Pairwise(x, c).data<double>().ToArray();
        for (int i = 0; i < 37; i++)
            for (int j = 0; j < 5; j++)
                Assert.True(Math.Abs(actual[i * 5 + j] - expected[i, j]) <= 1e-12 * (1 + expected[i, j]), $"d({i},{j}) = {actual[i * 5 + j]} vs {expected[i, j]}");
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(7L)]
    [InlineData(SquaredDistances.DefaultChunkElements)]
    public void NearestIsTheArgminOfTheDirectDistancesForAnyChunkSize(long chunkElements)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        var x = randn(50, 6, ScalarType.Float64, generator: g);
        var c = randn(4, 6, ScalarType.Float64, generator: g);
        var expected = BruteForce(x, c);
        var (labels, distances) = SquaredDistances.Nearest(x, c, chunkElements: chunkElements);
        var l = labels.data<long>().ToArray();
        var d = distances.data<double>().ToArray();
        for (int i = 0; i < 50; i++)
        {
            int best = 0;
            for (int j = 1; j < 4; j++) if (expected[i, j] < expected[i, best]) best = j;
            Assert.Equal(best, (int)l[i]);
            Assert.True(Math.Abs(d[i] - expected[i, best]) <= 1e-12 * (1 + expected[i, best]), $"row {i}: {d[i]} vs {expected[i, best]}");
        }
        double inertia = SquaredDistances.Inertia(x, c, labels, chunkElements);
        double direct = Enumerable.Range(0, 50).Sum(i => expected[i, l[i]]);
        Assert.Equal(direct, inertia, 1e-9);
    }

    [Fact]
    public void CoincidentPointsHaveZeroNotNegativeDistance()
    {
        using var scope = NewDisposeScope();
        // Large offset: the expansion cancels catastrophically, the clamp must hold it at ≥ 0.
        var x = full(4, 3, 1e4, ScalarType.Float32).add_(arange(12, ScalarType.Float32).reshape(4, 3).mul_(1e-3f));
        var d = SquaredDistances.Pairwise(x, x);
        Assert.True(d.min().item<float>() >= 0);
    }
}
