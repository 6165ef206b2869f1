using System.Globalization;
using System.Text.Json.Nodes;
using Evlf.Bench.Benchmarks;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Fusion;

namespace Evlf.Bench.PyTorch;

/// <summary>One row of the end-to-end comparison: a distill stage, or the whole run, in C# and in PyTorch eager.</summary>
/// <param name="Stage">A stage name of the distill manifest, or <see cref="PipelineReference.Key"/> for the whole run.</param>
public sealed record PipelineStageComparison(string Stage, double CSharpSeconds, double PythonSeconds)
{
    /// <summary>How many times faster C# is: Python seconds ÷ C# seconds (&gt; 1: C# is faster).</summary>
    public double Speedup => PythonSeconds / CSharpSeconds;
}

/// <summary>
/// The PyTorch-eager end-to-end distill of <c>evlf bench</c>: tools/bench/pipeline_reference.py does the work of the
/// bench's C# distill (the released recipe: mgd3 + EVLF, IPC 10, one sample per image from noise; the same bundle, data,
/// fusion epochs and samples, and threads) stage by stage, and the C# speedup is taken for the whole run and for each
/// stage both report.
/// </summary>
public static class PipelineReference
{
    /// <summary>The script, relative to the repository root.</summary>
    public static readonly string ScriptPath = Path.Combine("tools", "bench", "pipeline_reference.py");

    /// <summary>The key of the comparison under python_reference in bench.json, and of its ratio; also bench's C# key.</summary>
    public const string Key = DistillBenchmark.Key;

    /// <summary>The stages of the released recipe's distill (DistillationPipeline's run-folder stages), in order; the script times the same.</summary>
    public static IReadOnlyList<string> Stages { get; } = [StageNames.Latents, StageNames.Text, StageNames.Fusion, StageNames.Fuse, StageNames.Modes, StageNames.Sample];

    /// <summary>The script's arguments for the job the C# bench distilled.</summary>
    public static IReadOnlyList<string> Arguments(string bundle, string dataDirectory, string outDirectory, FusionTrainingOptions training, int threads,
        int? maxTrain = null) =>
    [
        "--bundle", bundle, "--data", dataDirectory, "--out", outDirectory,
        "--fusion-epochs", training.Epochs.ToString(CultureInfo.InvariantCulture),
        "--fusion-samples", (training.MaxSamples ?? 0).ToString(CultureInfo.InvariantCulture),   // 0: every image
        "--threads", threads.ToString(CultureInfo.InvariantCulture),
        .. (maxTrain is int n ? new[] { "--max-train", n.ToString(CultureInfo.InvariantCulture) } : []),
    ];

    /// <summary>
    /// Why the end-to-end reference cannot run when bench_reference.py could not: its result says <c>"skipped":
    /// "reason"</c> when the interpreter is missing. (bench_reference.py's own <c>"skipped": {…}</c> object lists the
    /// stages it left out, which does not concern the pipeline.) Null when the pipeline should run.
    /// </summary>
    public static string? InterpreterSkipped(JsonObject python) => python["skipped"] is JsonValue v && v.TryGetValue<string>(out var why) ? why : null;

    /// <summary>
    /// Why the end-to-end reference would measure the interpreter's BLAS rather than the pipeline: PyTorch's 1024³ GEMM
    /// under a fifth of the C# side's (Debian's torch over the netlib reference BLAS runs it at ~4 GFLOP/s where OpenBLAS
    /// gives ~160, and the job would take hours); null when both figures are there and comparable.
    /// </summary>
    public static string? SlowBlas(JsonObject report, JsonObject python)
    {
        if (report["gemm_1024_gflops"] is not JsonValue c || !c.TryGetValue<double>(out var csharp)) return null;
        if (python["gemm_1024_gflops"] is not JsonValue p || !p.TryGetValue<double>(out var torch)) return null;
        return torch >= 0.2 * csharp ? null : FormattableString.Invariant(
            $"PyTorch's 1024³ GEMM runs at {torch:F1} GFLOP/s against {csharp:F1} in C#, so its BLAS is not an optimised one (Debian: apt-get install libopenblas0-pthread)");
    }

    /// <summary>
    /// The folder of Fashion-MNIST-style IDX files the script reads for a data spec (<c>fashion-mnist</c> as the C# side
    /// finds it, or <c>idx:DIR</c>); null with the reason for any other kind of data.
    /// </summary>
    public static string? DataDirectory(string spec, out string? why)
    {
        why = null;
        try
        {
            var parsed = DataSpec.Parse(spec);
            switch (parsed.Kind)
            {
                case DataSpecKind.FashionMnist: return FashionMnist.Locate();
                case DataSpecKind.Idx: return Path.GetFullPath(parsed.Directory!);
                default:
                    why = $"pipeline_reference.py reads IDX folders only (fashion-mnist, idx:DIR), not '{spec}'";
                    return null;
            }
        }
        catch (UserInputException e)
        {
            why = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The wall-clock limit of the script: 30 minutes for everything but fusion training (VAE encoding of the training
    /// set twice and of the test set, sampling) plus half a second per fusion micro-batch (PyTorch eager takes about
    /// 0.1–0.3 s here).
    /// </summary>
    public static TimeSpan Timeout(FusionTrainingOptions training, long trainImages)
    {
        long pool = training.MaxSamples is int max && max < trainImages ? max : trainImages;
        long microBatches = pool / Math.Max(1, training.BatchSize) * training.Epochs;
        return TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(0.5 * microBatches);
    }

    /// <summary>
    /// The whole run (first row, <see cref="Key"/>) and every stage that both sides timed with positive seconds, in the C#
    /// order. <paramref name="csharpDistill"/> is bench.json's distill_end_to_end (seconds and the manifest's stages,
    /// whose cached entries are left out); <paramref name="python"/> is the script's object (seconds, stages by name).
    /// </summary>
    public static IReadOnlyList<PipelineStageComparison> Compare(JsonObject csharpDistill, JsonObject python)
    {
        var rows = new List<PipelineStageComparison>();
        if (PositiveNumber(csharpDistill["seconds"]) is double c && PositiveNumber(python["seconds"]) is double p)
            rows.Add(new PipelineStageComparison(Key, c, p));
        var pythonStages = python["stages"] as JsonObject;
        if (csharpDistill["stages"] is not JsonArray csharpStages || pythonStages is null) return rows;
        foreach (var entry in csharpStages.OfType<JsonObject>())
        {
            if (entry["stage"] is not JsonValue name || !name.TryGetValue<string>(out var stage)) continue;
            if (entry["cached"] is JsonValue cached && cached.TryGetValue<bool>(out var isCached) && isCached) continue;
            if (rows.Any(r => r.Stage == stage)) continue;
            if (PositiveNumber(entry["seconds"]) is double cs && PositiveNumber(pythonStages[stage]) is double ps)
                rows.Add(new PipelineStageComparison(stage, cs, ps));
        }
        return rows;
    }

    /// <summary>
    /// The script's object with the comparison added: <c>speedup</c> (the whole run) and <c>stage_speedups</c> (per
    /// stage), C# speedups rounded to 3 decimals.
    /// </summary>
    public static JsonObject Record(JsonObject python, IReadOnlyList<PipelineStageComparison> rows)
    {
        if (rows.FirstOrDefault(r => r.Stage == Key) is { } total) python["speedup"] = Math.Round(total.Speedup, 3);
        var stages = new JsonObject();
        foreach (var r in rows.Where(r => r.Stage != Key)) stages[r.Stage] = Math.Round(r.Speedup, 3);
        python["stage_speedups"] = stages;
        return python;
    }

    /// <summary>A positive finite number, whichever numeric type the node was built from; null otherwise.</summary>
    public static double? PositiveNumber(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        double? d = v.TryGetValue<double>(out var x) ? x : v.TryGetValue<long>(out var l) ? l : v.TryGetValue<int>(out var i) ? i : null;
        return d is double value && double.IsFinite(value) && value > 0 ? value : null;
    }
}
