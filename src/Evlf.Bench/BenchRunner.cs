using System.Diagnostics;
using Evlf.Bench.Benchmarks;
using Evlf.Bench.PyTorch;
using static TorchSharp.torch;

namespace Evlf.Bench;

/// <summary>
/// `evlf bench`: every benchmark in turn on this machine, each printing as it finishes, then bench.json. The order
/// matters: peaks first (they frame every other figure), ConvNet-3 training before any graph with convolutions is
/// imported (importing one moves libtorch's convolutions off oneDNN for the process), the end-to-end distill after the
/// short benchmarks, and the PyTorch-eager twins last, since they compare with figures of this run.
/// </summary>
public static class BenchRunner
{
    /// <summary>The benchmarks, in the order they run.</summary>
    public static IReadOnlyList<IBenchmark> Benchmarks { get; } =
    [
        new PeakThroughputBenchmark(),
        new ImageDecodeBenchmark(),
        new ConvNetTrainingBenchmark(),
        new NetworkBenchmark(),
        new ImporterOverheadBenchmark(),
        new FusionTrainingBenchmark(),
        new SamplingBenchmark(),
        new SamplerMathBenchmark(),
        new KMeansBenchmark(),
        new DistillBenchmark(),
        new PythonStagesBenchmark(),
        new PythonPipelineBenchmark(),
    ];

    /// <summary>Runs every benchmark and writes the report; returns its path.</summary>
    /// <param name="startEvlf">A fresh start of this evlf program (the end-to-end distill runs as its own process).</param>
    /// <exception cref="Evlf.OnnxHybrid.UserInputException">The output folder cannot take bench.json, or an input is unusable.</exception>
    public static string Run(BenchOptions options, IBenchOutput output, Func<ProcessStartInfo> startEvlf, CancellationToken cancellationToken = default)
    {
        // The report's place is checked before the benchmarks, which take minutes.
        string path = BenchReport.RequirePlace(options);
        int threads = get_num_threads();
        var context = new BenchContext(options, output, threads, BenchReport.Start(threads, options.Quick), startEvlf, cancellationToken);
        foreach (var benchmark in Benchmarks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            benchmark.Run(context);
        }
        BenchReport.Write(path, context.Report);
        output.Line($"wrote {path}");
        return path;
    }
}
