using System.Diagnostics;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// k-means as the modes stage runs it (k-means++, one init) on 6000 × 256 overlapping blobs drawn as
/// tools/bench/bench_reference.py draws them, k 10: the median over seeds of seconds and Lloyd iterations, since each
/// seed needs its own number of iterations.
/// </summary>
public sealed class KMeansBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(0);
        var centres = randn(10, 256, generator: g) * 0.15;
        var x = centres.index_select(0, arange(6000).remainder(10)) + randn(6000, 256, generator: g);
        var seconds = new List<double>();
        var iterations = new List<int>();
        for (int seed = 0; seed < (context.Options.Quick ? 3 : 5); seed++)
        {
            var sw = Stopwatch.StartNew();
            using var fit = KMeans.Fit(x, 10, new KMeansOptions(Seed: seed));
            seconds.Add(sw.Elapsed.TotalSeconds);
            iterations.Add(fit.Iterations);
        }
        double median = Timing.Median(seconds), medianIterations = Timing.Median(iterations.Select(i => (double)i));
        context.Report["kmeans_6000x256_k10"] = new JsonObject
        {
            ["seconds"] = Math.Round(median, 4), ["ms_per_iteration"] = Math.Round(1000 * median / medianIterations, 3),
            ["iterations_median"] = medianIterations, ["iterations"] = new JsonArray(iterations.Select(i => (JsonNode)i).ToArray()),
            ["data_sum"] = x.sum(ScalarType.Float64).item<double>(),
        };
        context.Output.Line(FormattableString.Invariant($"k-means 6000×256, k 10: {median:F3} s, {medianIterations} Lloyd iterations (median of {seconds.Count} seeds)"));
    }
}
