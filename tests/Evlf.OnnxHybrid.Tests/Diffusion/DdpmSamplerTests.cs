using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class DdpmSamplerTests
{
    static readonly NoiseSchedule Linear = NoiseSchedule.Create(NoiseScheduleOptions.DiT);
    static readonly SpacedSchedule Dit50 = SpacedSchedule.FromSections(Linear, "50");

    public static IEnumerable<object[]> StepCases() => ReferenceVectors.Cases("ddpm_");

    static DdpmSampler SamplerFor(ReferenceVectors v)
    {
        var variance = v.String("variance") switch
        {
            "learned_range" => VarianceType.LearnedRange,
            "fixed_small" => VarianceType.FixedSmall,
            "fixed_large" => VarianceType.FixedLarge,
            var other => throw new InvalidDataException(other),
        };
        return new DdpmSampler(SpacedSchedule.FromSections(Linear, v.String("spacing")), new DdpmOptions(variance, v.Bool("clip")));
    }

    [Theory]
    [MemberData(nameof(StepCases))]
    public void StepMatchesTheReferenceInFloat32(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var sampler = SamplerFor(v);
        int i = v.Int("index");
        Assert.Equal(v.Int("timestep"), sampler.Schedule.ModelTimestep(i));
        using var scope = NewDisposeScope();
        var x = v.Tensor("x");
        var output = v.Tensor("model_output");
        var noise = v.Tensor("noise");
        using var p = sampler.Predict(output, i, x);
        Assert.Equal(ScalarType.Float32, p.Mean.dtype);
        TensorAssert.Close(v.Tensor("pred_x0"), p.PredX0, 1e-5, 1e-5, $"{caseName} x̂₀");
        TensorAssert.Close(v.Tensor("mean"), p.Mean, 1e-5, 1e-5, $"{caseName} mean");
        TensorAssert.Close(v.Tensor("std"), p.Std, 1e-5, 1e-6, $"{caseName} σ");
        TensorAssert.Close(v.Tensor("sample"), sampler.Step(output, i, x, noise), 1e-5, 1e-5, $"{caseName} x_(i-1)");
    }

    [Theory]
    [MemberData(nameof(StepCases))]
    public void StepMatchesTheReferenceInFloat64(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var sampler = SamplerFor(v);
        int i = v.Int("index");
        using var scope = NewDisposeScope();
        var x = v.Tensor("x").to(ScalarType.Float64);
        var output = v.Tensor("model_output").to(ScalarType.Float64);
        var noise = v.Tensor("noise").to(ScalarType.Float64);
        using var p = sampler.Predict(output, i, x);
        TensorAssert.Close(v.Tensor("pred_x0"), p.PredX0, 1e-12, 1e-12, $"{caseName} x̂₀");
        TensorAssert.Close(v.Tensor("mean"), p.Mean, 1e-12, 1e-12, $"{caseName} mean");
        TensorAssert.Close(v.Tensor("std"), p.Std, 1e-12, 1e-14, $"{caseName} σ");
        TensorAssert.Close(v.Tensor("sample"), sampler.Step(output, i, x, noise), 1e-12, 1e-12, $"{caseName} x_(i-1)");
    }

    [Fact]
    public void LastStepAddsNoNoise()
    {
        var sampler = new DdpmSampler(Dit50);
        Assert.False(sampler.AddsNoise(0));
        Assert.True(sampler.AddsNoise(1));
        using var scope = NewDisposeScope();
        var x = randn(1, 4, 2, 2, generator: new Generator(1));
        var output = randn(1, 8, 2, 2, generator: new Generator(2));
        using var p = sampler.Predict(output, 0, x);
        TensorAssert.Close(p.Mean, sampler.Step(output, 0, x, null), 0, 0, "x_(-1) = mean");
        Assert.Throws<ArgumentNullException>(() => sampler.Step(output, 1, x, null));
    }

    [Fact]
    public void LearnedRangeEndpointsAreTheFixedVariances()
    {
        // v = 1 gives σ² = β_i (fixed large away from 0); v = −1 gives β̃_i (fixed small).
        using var scope = NewDisposeScope();
        var x = randn(2, 4, 3, 3, generator: new Generator(3));
        var eps = randn(2, 4, 3, 3, generator: new Generator(4));
        var learned = new DdpmSampler(Dit50, new DdpmOptions(VarianceType.LearnedRange));
        var small = new DdpmSampler(Dit50, new DdpmOptions(VarianceType.FixedSmall));
        var large = new DdpmSampler(Dit50, new DdpmOptions(VarianceType.FixedLarge));
        foreach (int i in new[] { 49, 17, 1 })
        {
            using var top = learned.Predict(cat(new[] { eps, ones_like(eps) }, 1), i, x);
            using var bottom = learned.Predict(cat(new[] { eps, -ones_like(eps) }, 1), i, x);
            using var pl = large.Predict(eps, i, x);
            using var ps = small.Predict(eps, i, x);
            TensorAssert.Close(pl.Std.expand_as(x), top.Std, 1e-6, 0, $"v=1 at {i}");
            TensorAssert.Close(ps.Std.expand_as(x), bottom.Std, 1e-6, 0, $"v=−1 at {i}");
            Assert.Equal(Math.Sqrt(Dit50.Schedule.Betas[i]), pl.Std.item<float>(), 1e-6);
        }
    }

    [Fact]
    public void ClippingBoundsThePredictionOnlyWhenAsked()
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 4, 4, 4, generator: new Generator(5)) * 3;
        var output = cat(new[] { randn(1, 4, 4, 4, generator: new Generator(6)), zeros(1, 4, 4, 4) }, 1);
        using var clipped = new DdpmSampler(Dit50, new DdpmOptions(ClipDenoised: true)).Predict(output, 49, x);
        using var free = new DdpmSampler(Dit50).Predict(output, 49, x);
        Assert.True(clipped.PredX0.abs().max().item<float>() <= 1f);
        Assert.True(free.PredX0.abs().max().item<float>() > 1f);
    }

    [Fact]
    public void OracleDenoiserRecoversTheCleanSample()
    {
        // ε computed from the known x₀ at the model's (original) timestep: the loop must land on x₀.
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var x0 = rand(3, 4, 8, 8, generator: generator) * 2 - 1;
        var loop = new SamplingLoop(new DdpmSampler(Dit50));
        var result = loop.Run((x, t, _) => OracleOutput(x, t, x0, Linear, withVariance: true),
            new SamplingInputs(randn(3, 4, 8, 8, generator: generator)), generator);
        TensorAssert.Close(x0, result, 0, 1e-4, "DDPM with an oracle");
    }

    /// <summary>[ε, v = 0] with ε = (x − √ᾱ_t·x₀)/√(1 − ᾱ_t) on the base schedule.</summary>
    internal static Tensor OracleOutput(Tensor x, Tensor t, Tensor x0, NoiseSchedule baseSchedule, bool withVariance)
    {
        var a = NoiseSchedule.Gather(baseSchedule.SqrtAlphasCumprod, t, x);
        var b = NoiseSchedule.Gather(baseSchedule.SqrtOneMinusAlphasCumprod, t, x);
        var eps = (x - a * x0) / b;
        return withVariance ? cat(new[] { eps, zeros_like(eps) }, 1) : eps;
    }

    [Fact]
    public void WrongModelOutputShapesAreRejected()
    {
        using var scope = NewDisposeScope();
        var x = zeros(2, 4, 4, 4);
        var sampler = new DdpmSampler(Dit50);
        var e = Assert.Throws<ArgumentException>(() => sampler.Predict(zeros(2, 4, 4, 4), 10, x));
        Assert.Contains("2·4 channels", e.Message);
        Assert.Throws<ArgumentException>(() => sampler.Predict(zeros(2, 6, 4, 4), 10, x));
        Assert.Throws<ArgumentException>(() => sampler.Predict(zeros(2, 8, 4, 2), 10, x));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Predict(zeros(2, 8, 4, 4), 50, x));
    }
}
