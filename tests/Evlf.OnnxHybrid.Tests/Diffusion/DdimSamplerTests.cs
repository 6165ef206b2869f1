using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class DdimSamplerTests
{
    static readonly NoiseSchedule Linear = NoiseSchedule.Create(NoiseScheduleOptions.DiT);
    static readonly NoiseSchedule Sd = NoiseSchedule.Create(NoiseScheduleOptions.StableDiffusion);

    public static IEnumerable<object[]> StepCases() => ReferenceVectors.Cases("ddim_");

    static DdimSampler SamplerFor(ReferenceVectors v) =>
        v.String("spacing") == "leading"
            ? new DdimSampler(SpacedSchedule.ForInference(Sd, v.Int("steps"), TimestepSpacingKind.Leading, v.Int("steps_offset")),
                new DdimOptions(v.Double("eta"), v.Bool("set_alpha_to_one")))
            : new DdimSampler(SpacedSchedule.FromSections(Linear, v.String("spacing")), new DdimOptions(v.Double("eta"), v.Bool("set_alpha_to_one")));

    [Theory]
    [MemberData(nameof(StepCases))]
    public void StepMatchesTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var sampler = SamplerFor(v);
        int i = v.Int("index");
        Assert.Equal(v.Int("timestep"), sampler.Schedule.ModelTimestep(i));
        foreach (var (dtype, tol) in new[] { (ScalarType.Float32, 1e-5), (ScalarType.Float64, 1e-11) })
        {
            using var scope = NewDisposeScope();
            var x = v.Tensor("x").to(dtype);
            var output = v.Tensor("model_output").to(dtype);
            var noise = v.Tensor("noise").to(dtype);
            using var p = sampler.Predict(output, i, x);
            Assert.Equal(dtype, p.Mean.dtype);
            TensorAssert.Close(v.Tensor("pred_x0"), p.PredX0, tol, tol, $"{caseName} {dtype} x̂₀");
            TensorAssert.Close(v.Tensor("mean"), p.Mean, tol, tol, $"{caseName} {dtype} mean");
            TensorAssert.Close(v.Tensor("std"), p.Std, tol, tol, $"{caseName} {dtype} σ");
            TensorAssert.Close(v.Tensor("sample"), sampler.Step(output, i, x, noise), tol, tol, $"{caseName} {dtype} x_prev");
        }
    }

    [Fact]
    public void EtaZeroIsDeterministicAndEtaOneIsTheDdpmPosteriorVariance()
    {
        var spaced = SpacedSchedule.FromSections(Linear, "50");
        var ddim0 = new DdimSampler(spaced);
        var ddim1 = new DdimSampler(spaced, new DdimOptions(Eta: 1.0));
        Assert.False(ddim0.AddsNoise(30));
        Assert.True(ddim1.AddsNoise(30));
        for (int i = 1; i < spaced.Count; i++)
        {
            Assert.Equal(0.0, ddim0.Sigma(i));
            // η = 1: σ² = β̃_i of the respaced process.
            Assert.InRange(ddim1.Sigma(i) * ddim1.Sigma(i) / spaced.Schedule.PosteriorVariance[i], 1 - 1e-10, 1 + 1e-10);
        }
        Assert.Equal(0.0, ddim1.Sigma(0));
    }

    [Fact]
    public void FinalAlphaFollowsSetAlphaToOne()
    {
        var spaced = SpacedSchedule.ForInference(Sd, 50, TimestepSpacingKind.Leading, 1);
        Assert.Equal(1.0, new DdimSampler(spaced).AlphaCumprodPrev(0));
        Assert.Equal(Sd.AlphasCumprod[0], new DdimSampler(spaced, DdimOptions.StableDiffusion).AlphaCumprodPrev(0));
        Assert.Equal(Sd.AlphasCumprod[961], new DdimSampler(spaced, DdimOptions.StableDiffusion).AlphaCumprodPrev(49), 1e-15);
    }

    [Fact]
    public void OracleDenoiserRecoversTheCleanSampleDeterministically()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(21);
        var x0 = rand(2, 4, 8, 8, generator: generator) * 2 - 1;
        var xT = randn(2, 4, 8, 8, generator: generator);
        var spaced = SpacedSchedule.ForInference(Sd, 20, TimestepSpacingKind.Trailing);
        var loop = new SamplingLoop(new DdimSampler(spaced));
        // η = 0 needs no generator at all.
        var result = loop.Run((x, t, _) => DdpmSamplerTests.OracleOutput(x, t, x0, Sd, withVariance: false), new SamplingInputs(xT));
        TensorAssert.Close(x0, result, 0, 1e-4, "DDIM with an oracle");
    }

    [Fact]
    public void ClippingReDerivesEpsFromTheClippedPrediction()
    {
        using var scope = NewDisposeScope();
        var spaced = SpacedSchedule.FromSections(Linear, "50");
        var sampler = new DdimSampler(spaced, new DdimOptions(ClipDenoised: true));
        var x = randn(1, 4, 4, 4, generator: new Generator(7)) * 3;
        var eps = randn(1, 4, 4, 4, generator: new Generator(8));
        using var p = sampler.Predict(eps, 40, x);
        Assert.True(p.PredX0.abs().max().item<float>() <= 1f);
        // x = √ᾱ·x̂₀ + √(1 − ᾱ)·ε holds for the clipped pair.
        double a = spaced.Schedule.AlphasCumprod[40];
        TensorAssert.Close(x, p.PredX0 * Math.Sqrt(a) + p.Eps * Math.Sqrt(1 - a), 1e-5, 1e-5, "x from the clipped pair");
    }
}
