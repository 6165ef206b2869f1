using System.Text.Json;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>One network: ms per forward in ONNX Runtime and in the importer (eval, no grad), same inputs, same threads.</summary>
public sealed record NetworkTiming(string Network, int Batch, double OrtMs, double ImporterMs, double Ratio, double ExecutorOverheadPercent, int RuntimeNodes);

/// <summary>
/// ONNX Runtime against the importer (libtorch eager) on the same graph at batch 16 and the same threads, per network:
/// the EVLF fusion module, a miniature text UNet built here (<see cref="SmallUNet"/>), and the bundle's VAE encoder,
/// decoder and denoisers; also the importer's executor overhead (a forward's wall time over its kernels' time).
/// </summary>
public sealed class NetworkBenchmark : IBenchmark
{
    /// <summary>The batch every network runs at.</summary>
    public const int Batch = 16;

    /// <summary>
    /// A text UNet at the size of the importer's torch-exported UNet fixture (channels 8 and 16, 4 groups, context 7 × 32,
    /// 8×8×4 latents), written with GraphBuilder: a network small enough that per-node costs, not arithmetic, decide
    /// its time.
    /// </summary>
    public static OnnxModel SmallUNet() =>
        TextUNet.Build(new TextUNetConfig(Channels: [8, 16], Heads: 2, Groups: 4, ContextDim: 32, ContextLength: 7, TimeEmbeddingDim: 32), seed: 0);

    public void Run(BenchContext context)
    {
        int threads = context.Threads, runs = context.Options.Runs;
        var networks = new List<NetworkTiming>
        {
            Measure("fusion (EVLF default)", CrossAttentionFusion.Build(new FusionConfig(), 0), Batch, threads, runs),
            Measure("unet small (GraphBuilder, fixture size)", SmallUNet(), Batch, threads, runs),
        };
        if (context.Bundle is { } bundle)
        {
            var m = bundle.Manifest;
            networks.Add(Measure("vae encoder", OnnxModel.Load(bundle.PathOf(m.Vae.Encoder)), Batch, threads, runs));
            networks.Add(Measure("vae decoder", OnnxModel.Load(bundle.PathOf(m.Vae.Decoder)), Batch, threads, runs));
            foreach (var (name, d) in m.Denoisers)
                networks.Add(Measure($"{name} ({d.Kind})", OnnxModel.Load(bundle.PathOf(d.File)), Batch, threads, runs,
                    new Dictionary<string, long> { ["seq"] = m.TextEncoder?.Tokenizer.MaxLength ?? 16 }));
        }
        var F = BenchContext.Number;
        context.Output.Table(["network", "batch", "ORT ms", "importer ms", "importer/ORT", "executor overhead %", "nodes"],
            networks.Select(n => new[] { n.Network, n.Batch.ToString(), F(n.OrtMs), F(n.ImporterMs), F(n.Ratio), F(n.ExecutorOverheadPercent), n.RuntimeNodes.ToString() }));
        context.Report["networks"] = JsonSerializer.SerializeToNode(networks);
    }

    /// <summary>Times <paramref name="model"/> on seeded random inputs (dynamic dimensions other than the batch from <paramref name="dims"/>).</summary>
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
