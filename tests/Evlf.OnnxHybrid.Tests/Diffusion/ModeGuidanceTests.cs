using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class ModeGuidanceTests
{
    static readonly SpacedSchedule Dit50 = SpacedSchedule.FromSections(NoiseSchedule.Create(NoiseScheduleOptions.DiT), "50");

    public static IEnumerable<object[]> StepCases() => ReferenceVectors.Cases("mode_guidance_");

    [Theory]
    [MemberData(nameof(StepCases))]
    public void GuidedStepMatchesTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var options = new ModeGuidanceOptions(v.Double("lambda"), v.Int("stop_t"));
        Assert.Equal(new ModeGuidanceOptions(), options);
        int i = v.Int("index");
        Assert.Equal(v.Bool("guided"), ModeGuidance.IsActive(i, options));
        var sampler = new DdpmSampler(Dit50);
        using var scope = NewDisposeScope();
        var x = v.Tensor("x");
        var output = v.Tensor("model_output");
        var noise = v.Tensor("noise");
        var modes = v.Tensor("modes");
        using var p = sampler.Predict(output, i, x);
        var g = ModeGuidance.Shift(p, modes, i, options);
        if (v.Bool("guided")) TensorAssert.Close(v.Tensor("g"), g!, 1e-5, 1e-6, $"{caseName} g");
        else Assert.Null(g);
        TensorAssert.Close(v.Tensor("sample"), ModeGuidance.Step(sampler, output, i, x, modes, options, noise), 1e-5, 1e-5, $"{caseName} x_(t-1)");
    }

    [Fact]
    public void GuidancePullsThePredictionTowardsTheMode()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(12);
        var x = randn(2, 4, 4, 4, generator: g);
        var output = cat(new[] { randn(2, 4, 4, 4, generator: g), zeros(2, 4, 4, 4) }, 1);
        var modes = randn(2, 4, 4, 4, generator: g);
        var sampler = new DdpmSampler(Dit50);
        using var p = sampler.Predict(output, 40, x);
        var shift = ModeGuidance.Shift(p, modes, 40, new ModeGuidanceOptions())!;
        // ⟨g, m − x̂₀⟩ > 0, and g scales with λ.
        Assert.True((shift * (modes - p.PredX0)).sum().item<float>() > 0);
        var twice = ModeGuidance.Shift(p, modes, 40, new ModeGuidanceOptions(Lambda: 0.2))!;
        TensorAssert.Close(shift * 2, twice, 1e-6, 1e-7, "λ linearity");
        Assert.Throws<ArgumentException>(() => ModeGuidance.Shift(p, zeros(1, 4, 4, 4), 40, new ModeGuidanceOptions()));
    }

    [Fact]
    public void FiftyStepsWithStopT25GuideTwentyFourSteps()
    {
        Assert.Equal(24, Enumerable.Range(0, 50).Count(i => ModeGuidance.IsActive(i, new ModeGuidanceOptions())));
    }
}
