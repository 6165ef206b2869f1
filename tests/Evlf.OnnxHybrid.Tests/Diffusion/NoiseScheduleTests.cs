using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class NoiseScheduleTests
{
    static readonly (string Case, NoiseScheduleOptions Options)[] Schedules =
    {
        ("schedule_linear", NoiseScheduleOptions.DiT),
        ("schedule_scaled_linear", NoiseScheduleOptions.StableDiffusion),
    };

    public static IEnumerable<object[]> ScheduleCases() => Schedules.Select(s => new object[] { s.Case });

    static NoiseSchedule For(string caseName) => NoiseSchedule.Create(Schedules.Single(s => s.Case == caseName).Options);

    [Theory]
    [MemberData(nameof(ScheduleCases))]
    public void TablesMatchTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var s = For(caseName);
        int[] idx = v.Ints("indices");
        var tables = new (string Name, IReadOnlyList<double> Table)[]
        {
            ("betas", s.Betas), ("alphas", s.Alphas), ("alphas_cumprod", s.AlphasCumprod), ("alphas_cumprod_prev", s.AlphasCumprodPrev),
            ("sqrt_alphas_cumprod", s.SqrtAlphasCumprod), ("sqrt_one_minus_alphas_cumprod", s.SqrtOneMinusAlphasCumprod),
            ("sqrt_recip_alphas_cumprod", s.SqrtRecipAlphasCumprod), ("sqrt_recipm1_alphas_cumprod", s.SqrtRecipm1AlphasCumprod),
            ("posterior_variance", s.PosteriorVariance), ("posterior_log_variance_clipped", s.PosteriorLogVarianceClipped),
            ("posterior_mean_coef1", s.PosteriorMeanCoef1), ("posterior_mean_coef2", s.PosteriorMeanCoef2), ("log_betas", s.LogBetas),
        };
        Assert.Equal(1000, s.Length);
        foreach (var (name, table) in tables)
        {
            double[] expected = v.Doubles(name);
            // posterior_variance[0] is exactly 0 on both sides.
            for (int k = 0; k < idx.Length; k++)
                Assert.True(Math.Abs(table[idx[k]] - expected[k]) <= 1e-12 * Math.Abs(expected[k]),
                    $"{caseName} {name}[{idx[k]}]: {table[idx[k]]:R} vs {expected[k]:R}.");
        }
    }

    [Fact]
    public void LinearAlphaBarAtTheLastStepMatchesAnIndependentLogSum()
    {
        var s = NoiseSchedule.Create(NoiseScheduleOptions.DiT);
        // log ᾱ_T = Σ log(1 − β_t), β_t = 1e-4 + (0.02 − 1e-4)·t/999, summed with log1p in the test.
        double logSum = 0;
        for (int t = 0; t < 1000; t++) logSum += Math.Log(1.0 - (1e-4 + (0.02 - 1e-4) * t / 999.0));
        double expected = Math.Exp(logSum);
        Assert.Equal(expected, s.AlphasCumprod[999], 1e-15);
        Assert.InRange(s.AlphasCumprod[999] / expected, 1 - 1e-11, 1 + 1e-11);
        // The published value of DDPM's schedule: ᾱ_T ≈ 4.04e-5 (√ᾱ_T ≈ 0.00635).
        Assert.InRange(s.AlphasCumprod[999], 4.03e-5, 4.05e-5);
        Assert.Equal(0.02, s.Betas[999]);
        Assert.Equal(1e-4, s.Betas[0]);
    }

    [Fact]
    public void ScaledLinearEndsAtTheConfiguredBetas()
    {
        var s = NoiseSchedule.Create(NoiseScheduleOptions.StableDiffusion);
        Assert.Equal(0.00085, s.Betas[0], 1e-17);
        Assert.Equal(0.012, s.Betas[999], 1e-17);
        // √β is linear: equal differences of √β.
        double d1 = Math.Sqrt(s.Betas[1]) - Math.Sqrt(s.Betas[0]), d2 = Math.Sqrt(s.Betas[999]) - Math.Sqrt(s.Betas[998]);
        Assert.Equal(d1, d2, 1e-15);
        Assert.Equal((Math.Sqrt(0.012) - Math.Sqrt(0.00085)) / 999, d1, 1e-15);
    }

    [Theory]
    [MemberData(nameof(ScheduleCases))]
    public void PosteriorTablesSatisfyTheirIdentities(string caseName)
    {
        var s = For(caseName);
        for (int t = 1; t < s.Length; t++)
        {
            // β̃_t = 1 / (α_t/β_t + 1/(1 − ᾱ_{t−1})) (DDPM, the precision form).
            double precisionForm = 1.0 / (s.Alphas[t] / s.Betas[t] + 1.0 / (1.0 - s.AlphasCumprod[t - 1]));
            Assert.InRange(s.PosteriorVariance[t] / precisionForm, 1 - 1e-12, 1 + 1e-12);
            // The posterior mean of a noise-free x_t = √ᾱ_t·x₀ is √ᾱ_{t−1}·x₀.
            Assert.Equal(s.SqrtAlphasCumprod[t - 1], s.PosteriorMeanCoef1[t] + s.PosteriorMeanCoef2[t] * s.SqrtAlphasCumprod[t], 1e-11);
            Assert.Equal(s.AlphasCumprod[t - 1], s.AlphasCumprodPrev[t]);
        }
        Assert.Equal(0.0, s.PosteriorVariance[0]);
        Assert.Equal(s.PosteriorLogVarianceClipped[1], s.PosteriorLogVarianceClipped[0]);
        Assert.Equal(1.0, s.AlphasCumprodPrev[0]);
        // 1 − ᾱ_0 = β_0 up to cancellation in 1 − (1 − β_0).
        Assert.Equal(1.0, s.PosteriorMeanCoef1[0], 1e-12);
        Assert.Equal(0.0, s.PosteriorMeanCoef2[0]);
    }

    [Theory]
    [MemberData(nameof(ScheduleCases))]
    public void AddNoiseAndPredictX0MatchTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var s = For(caseName);
        using var scope = NewDisposeScope();
        var x0 = v.Tensor("x0");
        var noise = v.Tensor("noise");
        var t = v.Tensor("t");
        var expected = v.Tensor("x_t");

        var perSample = s.AddNoise(x0, noise, t);
        Assert.Equal(ScalarType.Float32, perSample.dtype);
        TensorAssert.Close(expected, perSample, 1e-6, 1e-6, $"{caseName} AddNoise(per-sample t)");
        var perSample64 = s.AddNoise(x0.to(ScalarType.Float64), noise.to(ScalarType.Float64), t);
        TensorAssert.Close(expected, perSample64, 1e-13, 1e-13, $"{caseName} AddNoise(per-sample t) float64");
        int[] ts = v.Ints("t");
        for (int k = 0; k < ts.Length; k++)
        {
            var one = s.AddNoise(x0.narrow(0, k, 1).to(ScalarType.Float64), noise.narrow(0, k, 1).to(ScalarType.Float64), ts[k]);
            TensorAssert.Close(expected.narrow(0, k, 1), one, 1e-13, 1e-13, $"{caseName} AddNoise(t={ts[k]})");
        }

        var xt = v.Tensor("x_t_f32");
        var x0Hat = s.PredictX0FromEps(xt.to(ScalarType.Float64), noise.to(ScalarType.Float64), 500);
        TensorAssert.Close(v.Tensor("x0_from_eps_t500"), x0Hat, 1e-12, 1e-12, $"{caseName} PredictX0FromEps");
        var x0Hat32 = s.PredictX0FromEps(xt, noise, 500);
        TensorAssert.Close(v.Tensor("x0_from_eps_t500"), x0Hat32, 1e-5, 1e-5, $"{caseName} PredictX0FromEps float32");
        // ε round-trips through x̂₀.
        TensorAssert.Close(noise, s.PredictEpsFromX0(xt.to(ScalarType.Float64), x0Hat, 500), 1e-10, 1e-10, "PredictEpsFromX0");
    }

    [Fact]
    public void BadInputsAreRejectedWithAClearMessage()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.Create(NoiseScheduleOptions.DiT with { TrainTimesteps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.Create(NoiseScheduleOptions.DiT with { BetaEnd = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.FromBetas(new[] { 0.1, 0.0 }));
        var s = NoiseSchedule.Create(NoiseScheduleOptions.DiT);
        using var x = zeros(2, 4, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s.AddNoise(x, x, 1000));
        Assert.Contains("0..999", e.Message);
        using var badT = tensor(new long[] { 0, 1000 });
        Assert.Throws<ArgumentOutOfRangeException>(() => s.AddNoise(x, x, badT));
    }
}
