using System.Text.Json.Nodes;
using Evlf.Bench;
using Evlf.Bench.Benchmarks;
using Evlf.Bench.PyTorch;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Bench;

/// <summary>
/// The two PyTorch-twin benchmarks end to end in the bench's report, with a shell script standing in for the interpreter
/// (it prints what the twin would print, whatever script it is given).
/// </summary>
public sealed class PythonTwinBenchmarkTests : IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    sealed class RecordingOutput : IBenchOutput
    {
        public List<string> Lines { get; } = [];
        public List<List<IReadOnlyList<string>>> Tables { get; } = [];
        public void Line(string text) => Lines.Add(text);
        public void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows) => Tables.Add(rows.ToList());
    }

    /// <summary>An executable that prints <paramref name="json"/> and exits with <paramref name="status"/>.</summary>
    string FakeInterpreter(string json, int status = 0)
    {
        string path = dir.Combine($"python-{Guid.NewGuid():N}");
        File.WriteAllText(path, $"#!/bin/sh\necho 'a line of chatter'\necho '{json}'\nexit {status}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    (BenchContext Context, RecordingOutput Output) Context(string python, JsonObject report)
    {
        var output = new RecordingOutput();
        var options = new BenchOptions { Quick = true, Python = python, Data = "idx:" + dir.Path, Bundle = dir.Path };
        return (new BenchContext(options, output, 2, report, () => throw new InvalidOperationException("no evlf here")), output);
    }

    static JsonObject CSharpReport() => JsonNode.Parse("""
        {
          "format": "evlf-bench/1", "gemm_1024_gflops": 100.0, "fusion_training_ms_per_step": 10.0,
          "distill_end_to_end": { "seconds": 120.0, "train_images": 20000,
            "stages": [ { "stage": "latents", "cached": false, "seconds": 20.0 }, { "stage": "sample", "cached": false, "seconds": 30.0 } ] }
        }
        """)!.AsObject();

    [Fact]
    public void TheStagesTwinRecordsItsFiguresAndTheCSharpSpeedups()
    {
        string python = FakeInterpreter("""{"torch_version": "1.13.0", "threads": 2, "gemm_1024_gflops": 50.0, "fusion_training_ms_per_step": 40.0}""");
        var (context, output) = Context(python, CSharpReport());

        new PythonStagesBenchmark().Run(context);

        var recorded = context.Report[PythonStagesBenchmark.Key]!;
        Assert.Equal(2.0, (double)recorded["ratios"]!["gemm_1024_gflops"]!);              // rate: 100 / 50
        Assert.Equal(4.0, (double)recorded["ratios"]!["fusion_training_ms_per_step"]!);   // time: 40 / 10
        Assert.Equal(2, output.Tables.Single().Count);
        Assert.Contains(output.Lines, l => l.StartsWith("python reference: torch 1.13.0, 2 threads"));
    }

    [Fact]
    public void AnInterpreterWithoutTorchIsAnErrorEntryNotAnException()
    {
        var (context, output) = Context(FakeInterpreter("{}", status: PythonReference.MissingTorchExitCode), CSharpReport());

        new PythonStagesBenchmark().Run(context);

        Assert.StartsWith("python reference: ", output.Lines[^1]);
        Assert.Contains("has no torch", (string)context.Report[PythonStagesBenchmark.Key]!["error"]!);
    }

    [Fact]
    public void ThePipelineTwinComparesWithTheCSharpDistillAndAddsItsRatio()
    {
        var report = CSharpReport();
        report[PythonStagesBenchmark.Key] = new JsonObject { ["gemm_1024_gflops"] = 90.0, ["ratios"] = new JsonObject() };
        string python = FakeInterpreter("""{"seconds": 360.0, "threads": 2, "stages": {"latents": 100.0, "sample": 60.0}}""");
        var (context, output) = Context(python, report);

        new PythonPipelineBenchmark().Run(context);

        var twin = report[PythonStagesBenchmark.Key]![PipelineReference.Key]!;
        Assert.Equal(3.0, (double)twin["speedup"]!);                                      // 360 / 120
        Assert.Equal(2.0, (double)twin["stage_speedups"]!["sample"]!);                     // 60 / 30
        Assert.Equal(3.0, (double)report[PythonStagesBenchmark.Key]!["ratios"]![PipelineReference.Key]!);
        Assert.Equal(3, output.Tables.Single().Count);
        Assert.Contains(output.Lines, l => l.Contains("--fusion-epochs 1 --fusion-samples 4000 --threads 2 --max-train 20000"));
    }

    [Fact]
    public void ThePipelineTwinWaitsForBothTheCSharpDistillAndTheStagesTwinAndSkipsOnASlowBlas()
    {
        string python = FakeInterpreter("""{"seconds": 1.0}""");
        var noDistill = CSharpReport();
        noDistill.Remove(DistillBenchmark.Key);
        noDistill[PythonStagesBenchmark.Key] = new JsonObject();
        new PythonPipelineBenchmark().Run(Context(python, noDistill).Context);
        Assert.Null(noDistill[PythonStagesBenchmark.Key]![PipelineReference.Key]);

        var noStages = CSharpReport();
        new PythonPipelineBenchmark().Run(Context(python, noStages).Context);
        Assert.Null(noStages[PythonStagesBenchmark.Key]);

        var slow = CSharpReport();
        slow[PythonStagesBenchmark.Key] = new JsonObject { ["gemm_1024_gflops"] = 4.0 };
        new PythonPipelineBenchmark().Run(Context(python, slow).Context);
        Assert.Contains("not an optimised one", (string)slow[PythonStagesBenchmark.Key]![PipelineReference.Key]!["skipped"]!);
    }
}
