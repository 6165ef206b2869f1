using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// The sampler's math without a network, as tools/bench/bench_reference.py times it: DiT's CFG (s 4, channels 0–2) on a
/// [cond; uncond] output of 2 × 10, then the DDPM learned-range step, over the 50 respaced steps; ms per step.
/// </summary>
public sealed class SamplerMathBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        using var scope = NewDisposeScope();
        var sampler = new DdpmSampler(SpacedSchedule.FromSections(NoiseSchedule.Create(NoiseScheduleOptions.DiT), "50"));
        var x = randn(10, 4, 8, 8);
        var raw = randn(20, 8, 8, 8);
        var noise = randn(10, 4, 8, 8);
        int steps = sampler.Schedule.Count;
        double ms = Timing.MedianMilliseconds(() =>
        {
            for (int i = steps - 1; i >= 0; i--)
            {
                using var step = NewDisposeScope();
                sampler.Step(ClassifierFreeGuidance.CombineHalves(raw, GuidanceOptions.DiT), i, x, noise);
            }
        }, runs: context.Options.Runs) / steps;
        context.Report["sampler_step_math_ms_per_step"] = Math.Round(ms, 4);
        context.Output.Line(FormattableString.Invariant($"sampler math without the network: {ms * 1000:F0} µs per step (CFG + DDPM learned range, 10 images)"));
    }
}
