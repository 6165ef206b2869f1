using System.Text.Json.Nodes;
using Evlf.Bench;
using Evlf.Bench.Benchmarks;
using Evlf.Bench.PyTorch;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Fusion;

namespace Evlf.OnnxHybrid.Tests.Bench;

/// <summary>
/// The C# half of `evlf bench`'s end-to-end PyTorch comparison: speedups from canned reports, the script's arguments
/// and the data it can read (the Python half is tools/bench/test_pipeline_reference.py).
/// </summary>
public class PipelineReferenceTests
{
    static JsonObject CSharpDistill() => JsonNode.Parse("""
        {
          "seconds": 120.0, "images": 100, "train_images": 60000,
          "stages": [
            { "stage": "latents", "key": "a", "cached": false, "seconds": 20.0 },
            { "stage": "text", "key": "b", "cached": false, "seconds": 1.0 },
            { "stage": "fusion", "key": "c", "cached": false, "seconds": 60.0 },
            { "stage": "fuse", "key": "d", "cached": false, "seconds": 5.0 },
            { "stage": "modes", "key": "e", "cached": false, "seconds": 4.0 },
            { "stage": "sample", "key": "f", "cached": false, "seconds": 30.0 }
          ]
        }
        """)!.AsObject();

    static JsonObject PythonPipeline() => JsonNode.Parse("""
        {
          "seconds": 360.0, "threads": 2,
          "stages": { "latents": 100.0, "text": 2.0, "fusion": 90.0, "fuse": 10.0, "modes": 8.0, "sample": 150.0 }
        }
        """)!.AsObject();

    [Fact]
    public void OnlyAMissingInterpreterSkipsTheEndToEndReference()
    {
        Assert.Equal("/usr/bin/python3 not found", PipelineReference.InterpreterSkipped(new JsonObject { ["skipped"] = "/usr/bin/python3 not found" }));
        // bench_reference.py's own "skipped" object lists stages it left out; the pipeline still runs.
        Assert.Null(PipelineReference.InterpreterSkipped(JsonNode.Parse("""{ "skipped": {}, "gemm_1024_gflops": 90.0 }""")!.AsObject()));
        Assert.Null(PipelineReference.InterpreterSkipped(new JsonObject { ["error"] = "script failed" }));
    }

    [Fact]
    public void AReferenceBlasSkipsTheEndToEndReference()
    {
        static JsonObject Gemm(double gflops) => new() { ["gemm_1024_gflops"] = gflops };
        // This machine with Debian's netlib libblas3: 3.98 GFLOP/s in PyTorch against 162.8 in C#.
        Assert.Contains("4.0 GFLOP/s against 162.8", PipelineReference.SlowBlas(Gemm(162.8), Gemm(3.982)) ?? "");
        Assert.Null(PipelineReference.SlowBlas(Gemm(162.8), Gemm(144.0)));   // OpenBLAS
        Assert.Null(PipelineReference.SlowBlas(Gemm(162.8), new JsonObject()));
    }

    [Fact]
    public void SpeedupIsPythonSecondsOverCSharpSecondsForTheRunAndEachStageInOrder()
    {
        var rows = PipelineReference.Compare(CSharpDistill(), PythonPipeline());

        Assert.Equal(["distill_end_to_end", "latents", "text", "fusion", "fuse", "modes", "sample"], rows.Select(r => r.Stage).ToArray());
        Assert.Equal(3.0, rows[0].Speedup);                     // 360 / 120
        Assert.Equal(5.0, rows.Single(r => r.Stage == "latents").Speedup);
        Assert.Equal(1.5, rows.Single(r => r.Stage == "fusion").Speedup);
        Assert.Equal((30.0, 150.0), (rows[^1].CSharpSeconds, rows[^1].PythonSeconds));
    }

    [Fact]
    public void RecordAddsTheSpeedupsToThePythonObject()
    {
        var python = PythonPipeline();
        PipelineReference.Record(python, PipelineReference.Compare(CSharpDistill(), python));

        Assert.Equal(3.0, (double)python["speedup"]!);
        Assert.Equal(2.0, (double)python["stage_speedups"]!["modes"]!);                // 8 / 4
        Assert.Equal(6, python["stage_speedups"]!.AsObject().Count);
        Assert.Equal(360.0, (double)python["seconds"]!);
    }

    [Fact]
    public void CachedStagesAndStagesMissingOnEitherSideGetNoRow()
    {
        var csharp = CSharpDistill();
        csharp["stages"]![0]!["cached"] = true;                   // latents reused: its seconds say nothing
        var python = PythonPipeline();
        python["stages"]!.AsObject().Remove("text");
        python["stages"]!["fuse"] = 0.0;

        var rows = PipelineReference.Compare(csharp, python);

        Assert.Equal(["distill_end_to_end", "fusion", "modes", "sample"], rows.Select(r => r.Stage).ToArray());
    }

    [Fact]
    public void ComparesTheObjectsBenchBuildsAsWellAsParsedOnes()
    {
        // DistillBenchmark builds distill_end_to_end from CLR values (double seconds, bool cached, int counts).
        var csharp = new JsonObject
        {
            ["seconds"] = 12.5, ["train_images"] = 60_000,
            ["stages"] = new JsonArray(new JsonObject { ["stage"] = "modes", ["key"] = "k", ["cached"] = false, ["seconds"] = 2.0 },
                                       new JsonObject { ["stage"] = "sample", ["key"] = "k", ["cached"] = true, ["seconds"] = 0.01 }),
        };

        var rows = PipelineReference.Compare(csharp, PythonPipeline());

        Assert.Equal([("distill_end_to_end", 28.8), ("modes", 4.0)], rows.Select(r => (r.Stage, r.Speedup)).ToArray());
        Assert.Equal(60_000.0, PipelineReference.PositiveNumber(csharp["train_images"]));
        Assert.Null(PipelineReference.PositiveNumber(JsonValue.Create("12")));
    }

    [Fact]
    public void ARunWithoutSecondsGivesNoTotalAndNoSpeedup()
    {
        var python = PythonPipeline();
        python.Remove("seconds");
        var rows = PipelineReference.Compare(CSharpDistill(), python);
        PipelineReference.Record(python, rows);

        Assert.DoesNotContain(rows, r => r.Stage == PipelineReference.Key);
        Assert.Null(python["speedup"]);
    }

    [Fact]
    public void ArgumentsMirrorTheBenchDistill()
    {
        // The job of the bench's C# distill, as DistillBenchmark runs it.
        var quick = PipelineReference.Arguments("/b", "/d", "/o", DistillBenchmark.FusionTraining(quick: true), 2, DistillBenchmark.MaxTrain(quick: true));
        var full = PipelineReference.Arguments("/b", "/d", "/o", DistillBenchmark.FusionTraining(quick: false), 8, DistillBenchmark.MaxTrain(quick: false));

        Assert.Equal("--bundle /b --data /d --out /o --fusion-epochs 1 --fusion-samples 4000 --threads 2 --max-train 20000", string.Join(' ', quick));
        Assert.Equal("--bundle /b --data /d --out /o --fusion-epochs 4 --fusion-samples 0 --threads 8", string.Join(' ', full));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheBenchDistillIsTheReleasedRecipeTheTwinReproduces(bool quick)
    {
        // The default preset's candidates, herding's choice and real starts have no twin in pipeline_reference.py, so the
        // bench's C# distill must be the released recipe, changed only where the twin gets the same flags.
        var bench = new BenchOptions { Quick = quick, Data = "fashion-mnist", Bundle = "/b" };
        var arguments = DistillBenchmark.Arguments(bench, "/o");
        Assert.Equal("distill", arguments[0]);

        var (_, options) = Evlf.Cli.Commands.DistillArguments.Parse(arguments.Skip(1).ToList());

        var released = DistillOptions.For(DistillMethod.Mgd3, DistillPreset.Released);
        Assert.Equal(released with
        {
            Bundle = "/b", Out = "/o", Quiet = true, MaxTrain = DistillBenchmark.MaxTrain(quick),
            FusionTraining = DistillBenchmark.FusionTraining(quick),
        }, options);
        Assert.Equal(1, options.Candidates);
        Assert.Equal(SampleStart.Noise, options.SamplingStart);
    }

    [Fact]
    public void TheTimeoutGrowsWithTheFusionMicroBatches()
    {
        var quick = PipelineReference.Timeout(new FusionTrainingOptions(Epochs: 1, MaxSamples: 4000), 60_000);
        var full = PipelineReference.Timeout(new FusionTrainingOptions(), 60_000);

        Assert.Equal(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(0.5 * 250), quick);    // 4000 / 16 micro-batches
        Assert.Equal(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(0.5 * 15_000), full);  // 60 000 / 16 × 4
    }

    [Fact]
    public void TheScriptReadsIdxFoldersOnly()
    {
        string dir = Directory.CreateTempSubdirectory("evlf-idx-").FullName;
        Assert.Equal(dir, PipelineReference.DataDirectory("idx:" + dir, out var why));
        Assert.Null(why);

        Assert.Null(PipelineReference.DataDirectory("cifar10:/somewhere", out why));
        Assert.Contains("IDX folders only", why);
        Assert.Null(PipelineReference.DataDirectory("no-such-spec", out why));
        Assert.Contains("not recognised", why);
    }

    [Fact]
    public void TheScriptTimesEveryStageOfTheDistill()
    {
        string script = PythonReference.FindScript(PipelineReference.ScriptPath)
            ?? throw new Xunit.Sdk.XunitException($"{PipelineReference.ScriptPath} not found above {AppContext.BaseDirectory}");
        string text = File.ReadAllText(script);
        foreach (var stage in PipelineReference.Stages)
            Assert.Contains($"stages.run(\"{stage}\"", text);
        // and those are run-folder stages the C# pipeline records
        Assert.Subset(StageNames.Generative.ToHashSet(), PipelineReference.Stages.ToHashSet());
    }

    [Fact]
    public void RunScriptPassesTheArgumentsAndReadsTheLastLine()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("evlf-pyref-").FullName, "fake.sh");
        File.WriteAllText(path, """
            echo "pipeline_reference: latents 1.0 s" >&2
            printf '{"args": "%s", "seconds": 2.5}\n' "$*"
            """ + "\n");
        var arguments = PipelineReference.Arguments("/b", "/d", "/o", new FusionTrainingOptions(Epochs: 1, MaxSamples: 4000), 2);

        var result = PythonReference.RunScript("/bin/sh", path, arguments, TimeSpan.FromMinutes(1));

        Assert.Equal(string.Join(' ', arguments), (string)result["args"]!);
        Assert.Equal(2.5, (double)result["seconds"]!);
    }
}
