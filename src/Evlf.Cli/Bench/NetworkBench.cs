using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.Cli.Bench;

/// <summary>One network: ms per forward in ONNX Runtime and in the importer (eval, no grad), same inputs, same threads.</summary>
public sealed record NetworkTiming(string Network, int Batch, double OrtMs, double ImporterMs, double Ratio, double ExecutorOverheadPercent, int RuntimeNodes);

public static class NetworkBench
{
    public static NetworkTiming Measure(string name, OnnxModel model, int batch, int threads, int runs, IReadOnlyDictionary<string, long>? dims = null)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 0, batch: batch, dims: dims);
        using var session = OnnxSession.FromModel(model, new SessionSettings(ExecutionDevice.Cpu, threads));
        using var bound = session.Bind(inputs.ToDictionary(kv => kv.Key, kv => kv.Value.shape));
        foreach (var (k, v) in inputs) bound.Inputs[k].copy_(v);
        double ort = Timing.MedianMilliseconds(bound.Run, runs: runs);

        using var module = OnnxTorchModule.FromModel(model);
        module.eval();
        double importer = Timing.MedianMilliseconds(() => { using (no_grad()) module.forward(inputs); }, runs: runs);

        // Executor overhead: wall time of a forward minus the time spent inside the op kernels.
        module.Profile = new();
        double profiled = Timing.MedianMilliseconds(() => { using (no_grad()) module.forward(inputs); }, warmup: 0, runs: runs);
        double inKernels = module.Profile.Values.Sum(v => v.Milliseconds) / runs;
        double overhead = 100 * (profiled - inKernels) / inKernels;
        return new NetworkTiming(name, batch, Math.Round(ort, 3), Math.Round(importer, 3), Math.Round(importer / ort, 2), Math.Round(overhead, 1), module.RuntimeNodeCount);
    }
}
