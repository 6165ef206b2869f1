using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// The machine's peaks in libtorch: a 1024³ float32 GEMM and a 3×3 convolution (128 → 128 channels, 16×16, batch 100),
/// in GFLOP/s. Every other figure of the run reads against these, since the host's speed drifts between runs.
/// </summary>
public sealed class PeakThroughputBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        int runs = context.Options.Runs;
        using var scope = NewDisposeScope();
        var a = randn(1024, 1024);
        var b = randn(1024, 1024);
        double gemm = Timing.MedianMilliseconds(() => matmul(a, b), runs: runs);
        var x = randn(100, 128, 16, 16);
        var w = randn(128, 128, 3, 3);
        double conv = Timing.MedianMilliseconds(() => nn.functional.conv2d(x, w, padding: new long[] { 1, 1 }), runs: runs);
        double gemmGflops = 2.0 * 1024 * 1024 * 1024 / gemm / 1e6, convGflops = 2.0 * 100 * 128 * 128 * 9 * 256 / conv / 1e6;
        context.Report["gemm_1024_gflops"] = Math.Round(gemmGflops, 1);
        context.Report["conv3x3_128_16x16_b100_gflops"] = Math.Round(convGflops, 1);
        context.Output.Line(FormattableString.Invariant($"GEMM 1024³: {gemmGflops:F1} GFLOP/s; conv 3×3 128→128 16×16 batch 100: {convGflops:F1} GFLOP/s"));
    }
}
