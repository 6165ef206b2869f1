using System.Diagnostics;
using Evlf.OnnxHybrid.Fusion;
using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// EVLF fusion training as FusionTrainer runs it, on 64 random latents: ms per optimizer step of 2 micro-batches of 16
/// (the released recipe), checkpoint and log writing included.
/// </summary>
public sealed class FusionTrainingBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        using var scope = NewDisposeScope();
        var data = new FusionData(randn(64, 4, 8, 8), arange(64).remainder(10), randn(10, 16, 384), randn(10, 384));
        string dir = Directory.CreateTempSubdirectory("evlf-bench-fusion-").FullName;
        int steps = context.Options.Quick ? 20 : 60;
        var sw = Stopwatch.StartNew();
        // 64 samples / batch 16 = 4 micro-batches per epoch, 2 optimizer steps per epoch.
        FusionTrainer.Train(new FusionConfig { TextDim = 384, TextLength = 16 }, data, new FusionTrainingOptions(Epochs: steps / 2, CheckpointEvery: 1_000_000), 0, dir);
        double msPerStep = sw.Elapsed.TotalMilliseconds / steps;
        Directory.Delete(dir, true);
        context.Report["fusion_training_ms_per_step"] = Math.Round(msPerStep, 2);
        context.Output.Line(FormattableString.Invariant($"fusion training: {msPerStep:F1} ms per optimizer step (2 × 16 samples, including checkpoint/log overhead)"));
    }
}
