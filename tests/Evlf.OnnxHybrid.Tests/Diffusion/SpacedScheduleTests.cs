using Evlf.OnnxHybrid.Diffusion;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class SpacedScheduleTests
{
    static readonly NoiseSchedule Linear = NoiseSchedule.Create(NoiseScheduleOptions.DiT);

    public static IEnumerable<object[]> RespaceCases() => ReferenceVectors.Cases("respace_");

    [Theory]
    [MemberData(nameof(RespaceCases))]
    public void RespacedTablesMatchTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var spaced = SpacedSchedule.FromSections(Linear, v.String("spec"));
        var s = spaced.Schedule;
        Assert.Equal(v.Ints("kept"), spaced.TimestepMap);
        TensorAssert.Close(v.Doubles("betas"), s.Betas, 1e-12, "betas");
        TensorAssert.Close(v.Doubles("alphas_cumprod"), s.AlphasCumprod, 1e-12, "alphas_cumprod");
        TensorAssert.Close(v.Doubles("posterior_log_variance_clipped"), s.PosteriorLogVarianceClipped, 1e-12, "posterior_log_variance_clipped");
        TensorAssert.Close(v.Doubles("posterior_mean_coef1"), s.PosteriorMeanCoef1, 1e-12, "posterior_mean_coef1");
        TensorAssert.Close(v.Doubles("posterior_mean_coef2").Skip(1).ToArray(), s.PosteriorMeanCoef2.Skip(1).ToArray(), 1e-12, "posterior_mean_coef2");
        Assert.Equal(0.0, s.PosteriorMeanCoef2[0]);
        var pv = v.Doubles("posterior_variance");
        TensorAssert.Close(pv.Skip(1).ToArray(), s.PosteriorVariance.Skip(1).ToArray(), 1e-12, "posterior_variance");
    }

    [Fact]
    public void RespacedProcessKeepsTheBaseAlphaBarsAndMapsToOriginalTimesteps()
    {
        var spaced = SpacedSchedule.FromSections(Linear, "50");
        Assert.Equal(50, spaced.Count);
        for (int i = 0; i < spaced.Count; i++)
        {
            int t = spaced.TimestepMap[i];
            Assert.Equal(t, spaced.ModelTimestep(i));
            Assert.InRange(spaced.Schedule.AlphasCumprod[i] / Linear.AlphasCumprod[t], 1 - 1e-13, 1 + 1e-13);
        }
        // β_0 of the respaced process is the base β_0; later ones span 20–21 base steps.
        Assert.Equal(Linear.Betas[0], spaced.Schedule.Betas[0], 1e-15);
        Assert.Equal(1.0 - Linear.AlphasCumprod[999] / Linear.AlphasCumprod[979], spaced.Schedule.Betas[49], 1e-15);
        Assert.Equal(999, spaced.ModelTimestep(49));
        Assert.Throws<ArgumentOutOfRangeException>(() => spaced.ModelTimestep(50));
    }

    [Fact]
    public void RespacingTheWholeProcessGivesTheSameProcess()
    {
        var all = SpacedSchedule.FromSections(Linear, "1000");
        Assert.Equal(Enumerable.Range(0, 1000), all.TimestepMap);
        TensorAssert.Close(Linear.Betas, all.Schedule.Betas, 1e-11, "betas");
    }

    [Fact]
    public void KeptTimestepsMustBeDistinctAndInsideTheProcess()
    {
        Assert.Throws<ArgumentException>(() => SpacedSchedule.Respace(Linear, new[] { 0, 5, 5 }));
        Assert.Throws<ArgumentException>(() => SpacedSchedule.Respace(Linear, new[] { 0, 1000 }));
        Assert.Throws<ArgumentException>(() => SpacedSchedule.Respace(Linear, Array.Empty<int>()));
        // Any order is accepted and sorted.
        Assert.Equal(new[] { 3, 7, 9 }, SpacedSchedule.Respace(Linear, new[] { 9, 3, 7 }).TimestepMap);
    }
}
