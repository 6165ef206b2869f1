namespace Evlf.OnnxHybrid.Tests;

/// <summary>Derived seeds never wrap, distinct user seeds never share a stream, and the older rules keep their values.</summary>
public class SeedsTests
{
    [Fact]
    public void SeedsThatOnceWrappedGiveDifferentStreams()
    {
        // seed · 1000 + class wrapped in 32 bits: 0 and 536 870 912 gave the same images.
        Assert.NotEqual(Seeds.Derive(0, SeedStream.ClassSampling, 3), Seeds.Derive(536_870_912, SeedStream.ClassSampling, 3));
        // seed + 13 of s was seed + 11 of s + 2.
        Assert.NotEqual(Seeds.Derive(5, SeedStream.PosteriorNoise), Seeds.Derive(7, SeedStream.ModeFlips));
    }

    [Fact]
    public void DistinctUserSeedsNeverCollideWithinAStream()
    {
        foreach (var stream in Enum.GetValues<SeedStream>())
        {
            var seen = new HashSet<ulong>();
            foreach (long seed in Enumerable.Range(-500, 1000).Select(i => (long)i).Concat([int.MaxValue, int.MinValue, long.MaxValue, 536_870_912, 1L << 32]))
                Assert.True(seen.Add(Seeds.Derive(seed, stream, 7)), $"{stream}: seed {seed} collides");
        }
    }

    [Fact]
    public void TheMixIsSplitMix64()
    {
        // SplitMix64 seeded with 0: its first output is the finaliser of the golden-ratio increment (published reference value).
        Assert.Equal(0xE220A8397B1DCDAFUL, Seeds.Mix(0));
    }

    [Fact]
    public void SplitMixRandomIsUniformAndRepeatable()
    {
        var a = Seeds.Random(1, SeedStream.RandomSelection, 2);
        var b = Seeds.Random(1, SeedStream.RandomSelection, 2);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++)
        {
            int x = a.Next(3, 10);
            Assert.Equal(x, b.Next(3, 10));
            counts[x - 3]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 9_400, 10_600));
        Assert.InRange(Enumerable.Range(0, 10_000).Select(_ => a.NextDouble()).Average(), 0.49, 0.51);
        Assert.Equal(0, a.Next(0));
        Assert.Equal(5, a.Next(5, 5));
    }

    [Fact]
    public void TheOlderRulesKeepTheirValues()
    {
        // Values of the formulas as they stood before they moved into Seeds (computed independently, in Python): recorded
        // evaluations, initial weights and k-means modes depend on them.
        Assert.Equal(0x7A41463B56294C82UL, Seeds.EvaluationData(5));
        Assert.Equal(0xC4F46BE25A6A6404UL, Seeds.EvaluationData(-1));
        Assert.Equal(151_149_761, Seeds.KMeansRestart(0, 1));
        Assert.Equal(158_151_163, Seeds.KMeansRestart(3, 0));
        Assert.Equal(0x2C829ABE1F4532E1UL, Seeds.ParameterInit(7, 0));
        Assert.Equal(0x1E461A04D9181DBAUL, Seeds.ParameterInit(-2, 5));
        Assert.Equal(12L, Seeds.EvaluationRepeat(10, 2));
        Assert.Equal(4L, Seeds.TrainCheckTargetInputs(3));
    }
}
