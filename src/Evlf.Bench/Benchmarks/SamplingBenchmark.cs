using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Onnx;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// Sampling from the bundle's class DiT in ONNX Runtime: one class of 10 images, 50 steps with classifier-free guidance
/// (a CFG batch of 20), ms per step. Left out when the bundle has no DiT.
/// </summary>
public sealed class SamplingBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        if (context.Bundle is not { } bundle) return;
        string? dit = bundle.Manifest.Denoisers.FirstOrDefault(d => d.Value.Kind == DenoiserSpec.DitClass).Key;
        if (dit is null) return;
        using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu, context.Threads));
        double ms = Timing.MedianMilliseconds(() => runtime.Sample(dit, 0, 10, new SampleOptions(50, 4.0), new TorchSharp.torch.Generator(1)),
            warmup: 1, runs: context.Options.Quick ? 3 : 5);
        context.Report["sampler_ms_per_step"] = Math.Round(ms / 50, 3);
        context.Output.Line(FormattableString.Invariant($"sampling: {ms / 50:F2} ms per step (DiT, CFG ×2 batch, 10 images)"));
    }
}
