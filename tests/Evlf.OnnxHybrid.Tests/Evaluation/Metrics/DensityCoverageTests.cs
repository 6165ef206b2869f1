using Evlf.OnnxHybrid.Evaluation.Metrics;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Metrics;

public class DensityCoverageTests
{
    static Tensor Points(params double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Float64);
    static Tensor Line(params double[] xs) => Points(xs.Select(x => new[] { x, 0.0 }).ToArray());

    [Fact]
    public void OnALineWithKOne()
    {
        // Real R = {0, 1, 3, 7} on the x-axis, k = 1: r is the distance to the nearest other real point.
        //   r(0) = |0 − 1| = 1, r(1) = |1 − 0| = 1, r(3) = |3 − 1| = 2, r(7) = |7 − 3| = 4,
        //   so the balls are [−1, 1], [0, 2], [1, 5], [3, 11].
        // Fake F = {2, 10, 20}:
        //   F = 2  lies in the balls of 1 (|2 − 1| = 1 ≤ 1) and 3 (|2 − 3| = 1 ≤ 2), not 0 (2 > 1) nor 7 (5 > 4): 2 balls;
        //   F = 10 lies in the ball of 7 only (|10 − 7| = 3 ≤ 4; |10 − 3| = 7 > 2): 1 ball;
        //   F = 20 lies in none.
        // density  = (2 + 1 + 0) / (k·M) = 3 / (1·3) = 1
        // coverage = |{1, 3, 7}| / N = 3/4 (the ball of 0 holds no fake point)
        // in-manifold = |{2, 10}| / M = 2/3
        using var real = Line(0, 1, 3, 7);
        using var fake = Line(2, 10, 20);
        using var manifold = RealManifold.Fit(real, k: 1);
        using var radii = manifold.Radii();
        Assert.Equal(new[] { 1.0, 1.0, 2.0, 4.0 }, radii.data<double>().ToArray());
        var s = manifold.Score(fake);
        Assert.Equal(1.0, s.Density, 12);
        Assert.Equal(0.75, s.Coverage, 12);
        Assert.Equal(2.0 / 3.0, s.InManifold, 12);
        Assert.Equal((4, 3, 1), (s.RealCount, s.FakeCount, s.K));
    }

    [Fact]
    public void OnASquareWithKTwoDensityExceedsOneAndBallsAreClosed()
    {
        // Real R = corners (0,0), (2,0), (0,2), (2,2); k = 2. From (0,0) the others lie at 2, 2 and √8, so the
        // 2nd nearest is at 2; by symmetry every corner has r = 2.
        // F1 = (1,1) is √2 ≤ 2 from every corner: inside 4 balls.
        // F2 = (4,0) is exactly 2 from (2,0) (inside: the ball is closed, ‖F − R‖ ≤ r), √8 from (2,2), 4 from (0,0)
        //   and √20 from (0,2): inside 1 ball.
        // density  = (4 + 1) / (k·M) = 5 / (2·2) = 1.25
        // coverage = 4/4 = 1 (F1 alone covers every corner); in-manifold = 2/2 = 1
        using var real = Points([0, 0], [2, 0], [0, 2], [2, 2]);
        using var fake = Points([1, 1], [4, 0]);
        var s = DensityCoverage.Compute(real, fake, k: 2);
        Assert.Equal(1.25, s.Density, 12);
        Assert.Equal(1.0, s.Coverage, 12);
        Assert.Equal(1.0, s.InManifold, 12);

        // F1 alone: density = 4 / (2·1) = 2, above 1, as the paper notes density can be.
        using var f1 = Points([1, 1]);
        Assert.Equal(2.0, DensityCoverage.Compute(real, f1, k: 2).Density, 12);
    }

    [Fact]
    public void DefaultKIsTwentyAndTheRadiusIsTheTwentiethOtherPoint()
    {
        // Real R = {0, 1, …, 20} (21 points), k = 20 (the default). Each point has exactly 20 others, so its 20th
        // nearest is the farthest: r_i = max(i, 20 − i).
        // F = {30}: 30 − i ≤ max(i, 20 − i) ⇔ 30 − i ≤ i (the other branch gives 30 ≤ 20) ⇔ i ≥ 15, so F lies in
        // the 6 balls of 15, …, 20.
        // density = 6 / (20·1) = 0.3; coverage = 6/21; in-manifold = 1.
        using var real = Line(Enumerable.Range(0, 21).Select(i => (double)i).ToArray());
        using var fake = Line(30);
        using var manifold = RealManifold.Fit(real);
        Assert.Equal(20, manifold.K);
        using var radii = manifold.Radii();
        Assert.Equal(Enumerable.Range(0, 21).Select(i => (double)Math.Max(i, 20 - i)).ToArray(), radii.data<double>().ToArray());
        var s = manifold.Score(fake);
        Assert.Equal(0.3, s.Density, 12);
        Assert.Equal(6.0 / 21.0, s.Coverage, 12);
        Assert.Equal(1.0, s.InManifold, 12);
    }

    [Fact]
    public void IdenticalSetsAreFullyCoveredAndFarAwayFakesScoreZero()
    {
        using var g = new Generator(7);
        using var real = randn([300, 16], ScalarType.Float64, generator: g);
        var same = DensityCoverage.Compute(real, real);
        Assert.Equal(1.0, same.Coverage);
        Assert.Equal(1.0, same.InManifold);
        Assert.InRange(same.Density, 0.5, 2.0); // ≈ 1 in expectation for one distribution

        using var far = real.add(1000.0);
        var none = DensityCoverage.Compute(real, far);
        Assert.Equal(0.0, none.Density);
        Assert.Equal(0.0, none.Coverage);
        Assert.Equal(0.0, none.InManifold);
    }

    [Fact]
    public void AgreesWithABruteForceLoopAndDoesNotDependOnChunking()
    {
        using var g = new Generator(3);
        using var real = randn([120, 5], ScalarType.Float64, generator: g);
        using var fake = randn([45, 5], ScalarType.Float64, generator: g).mul(1.3).add(0.4);
        const int k = 7;
        var expected = BruteForce(Rows(real), Rows(fake), k);

        foreach (long chunk in new[] { 1L, 97L, 1L << 22 })
        {
            using var manifold = RealManifold.Fit(real, k, chunk);
            var s = manifold.Score(fake, chunk);
            Assert.Equal(expected.Density, s.Density, 12);
            Assert.Equal(expected.Coverage, s.Coverage, 12);
            Assert.Equal(expected.InManifold, s.InManifold, 12);
        }
        // Sanity: the shifted, wider fakes are neither perfect nor absent.
        Assert.InRange(expected.Coverage, 0.05, 0.95);
    }

    [Fact]
    public void RejectsTooFewRealSamplesAndMismatchedDimensions()
    {
        using var real = Line(0, 1, 2);
        Assert.Contains("at least 4 real samples; got 3", Assert.Throws<ArgumentException>(() => RealManifold.Fit(real, k: 3)).Message);
        Assert.Throws<ArgumentException>(() => RealManifold.Fit(real, k: 0));
        using var manifold = RealManifold.Fit(real, k: 2);
        using var wide = zeros([1, 3], ScalarType.Float64);
        Assert.Contains("dimensions", Assert.Throws<ArgumentException>(() => manifold.Score(wide)).Message);
        using var nan = tensor(new[] { double.NaN, 0 }, [1, 2], ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => manifold.Score(nan));
    }

    static double[][] Rows(Tensor x)
    {
        var flat = x.data<double>().ToArray();
        int d = (int)x.shape[1];
        return Enumerable.Range(0, (int)x.shape[0]).Select(i => flat[(i * d)..((i + 1) * d)]).ToArray();
    }

    static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    /// <summary>The definitions read literally: sort each real point's distances to the others, take the k-th, count.</summary>
    static (double Density, double Coverage, double InManifold) BruteForce(double[][] real, double[][] fake, int k)
    {
        var radius = real.Select((r, i) => real.Where((_, j) => j != i).Select(o => Distance(r, o)).OrderBy(d => d).ElementAt(k - 1)).ToArray();
        int inside = 0, inManifold = 0;
        var covered = new bool[real.Length];
        foreach (var f in fake)
        {
            bool any = false;
            for (int i = 0; i < real.Length; i++)
                if (Distance(f, real[i]) <= radius[i])
                {
                    inside++;
                    covered[i] = true;
                    any = true;
                }
            if (any) inManifold++;
        }
        return (inside / (double)(k * fake.Length), covered.Count(c => c) / (double)real.Length, inManifold / (double)fake.Length);
    }
}
