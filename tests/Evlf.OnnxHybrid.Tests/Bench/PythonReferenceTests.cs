using System.Text.Json.Nodes;
using Evlf.Bench.PyTorch;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Tests.Bench;

/// <summary>
/// The C# half of `evlf bench`'s PyTorch comparison: speedups from canned reports, and the child-process handling
/// with /bin/sh standing in for the interpreter (the Python half is tools/bench/test_bench_reference.py).
/// </summary>
public class PythonReferenceTests
{
    static JsonObject CSharpReport() => JsonNode.Parse("""
        {
          "gemm_1024_gflops": 100.0,
          "fusion_training_ms_per_step": 10.0,
          "convnet3_training": { "images_per_second": 500.0, "implied_gflops": 145.5 },
          "sampler_step_math_ms_per_step": 0.05,
          "kmeans_6000x256_k10": { "seconds": 0.5, "ms_per_iteration": 10.0 }
        }
        """)!.AsObject();

    static JsonObject PythonReport() => JsonNode.Parse("""
        {
          "torch_version": "1.13.0", "threads": 2,
          "gemm_1024_gflops": 2.0,
          "fusion_training_ms_per_step": 40.0,
          "convnet3_images_per_second": 250.0,
          "sampler_step_math_ms_per_step": 0.1,
          "kmeans_6000x256_k10_seconds": 1.5,
          "kmeans_ms_per_iteration": 30.0
        }
        """)!.AsObject();

    [Fact]
    public void SpeedupDividesPythonTimeByCSharpTimeAndCSharpRateByPythonRate()
    {
        var ratios = PythonReference.Ratios(PythonReference.Compare(CSharpReport(), PythonReport()));

        Assert.Equal(50.0, (double)ratios["gemm_1024_gflops"]!);                // rate: 100 / 2
        Assert.Equal(4.0, (double)ratios["fusion_training_ms_per_step"]!);      // time: 40 / 10
        Assert.Equal(2.0, (double)ratios["convnet3_images_per_second"]!);       // rate: 500 / 250
        Assert.Equal(2.0, (double)ratios["sampler_step_math_ms_per_step"]!);    // time: 0.1 / 0.05
        Assert.Equal(3.0, (double)ratios["kmeans_6000x256_k10_seconds"]!);      // time: 1.5 / 0.5
        Assert.Equal(3.0, (double)ratios["kmeans_ms_per_iteration"]!);          // time: 30 / 10
        Assert.Equal(6, ratios.Count);
    }

    [Fact]
    public void CompareKeepsTheFiguresAndALowerPythonTimeGivesASpeedupBelowOne()
    {
        var python = PythonReport();
        python["fusion_training_ms_per_step"] = 5.0;
        var row = PythonReference.Compare(CSharpReport(), python).Single(c => c.Stage.Key == "fusion_training_ms_per_step");

        Assert.Equal((10.0, 5.0, 0.5), (row.CSharp, row.Python, row.Speedup));
        Assert.Equal("ms/step", row.Stage.Unit);
    }

    [Fact]
    public void StagesMissingOnEitherSideOrNotPositiveNumbersGetNoRatio()
    {
        var csharp = CSharpReport();
        csharp.Remove("sampler_step_math_ms_per_step");                 // e.g. an older bench.json
        var python = PythonReport();
        python.Remove("kmeans_6000x256_k10_seconds");                   // scikit-learn missing: listed under "skipped"
        python["kmeans_ms_per_iteration"] = "n/a";
        python["gemm_1024_gflops"] = 0.0;
        python["convnet3_images_per_second"] = new JsonObject { ["value"] = 250.0 };

        var ratios = PythonReference.Ratios(PythonReference.Compare(csharp, python));

        Assert.Equal(["fusion_training_ms_per_step"], ratios.Select(r => r.Key).ToArray());
    }

    [Fact]
    public void EveryStageKeyIsOneTheScriptPrints()
    {
        string script = PythonReference.FindScript() ?? throw new Xunit.Sdk.XunitException($"{PythonReference.ScriptPath} not found above {AppContext.BaseDirectory}");
        string text = File.ReadAllText(script);
        foreach (var stage in PythonReference.Stages)
            Assert.Contains($"report[\"{stage.Key}\"]", text);
    }

    /// <summary>A shell script standing in for bench_reference.py.</summary>
    static string FakeScript(string body)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("evlf-pyref-").FullName, "fake.sh");
        File.WriteAllText(path, body + "\n");
        return path;
    }

    [Fact]
    public void RunPassesThreadsAndQuickAndReadsTheLastLineOfStdout()
    {
        string script = FakeScript("""
            echo "some library's chatter"
            echo "a warning" >&2
            printf '{"args": "%s", "spin": "%s", "core": "%s", "threads": 3}\n' "$*" "${GOMP_SPINCOUNT:-unset}" "${OPENBLAS_CORETYPE:-unset}"
            """);

        var result = PythonReference.Run("/bin/sh", script, 3, quick: true, TimeSpan.FromMinutes(1));

        Assert.Equal("--threads 3 --quick", (string)result["args"]!);
        Assert.Equal(3, (int)result["threads"]!);
        string expectedSpin = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT")
            ?? (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null ? TorchThreads.DefaultSpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unset");
        Assert.Equal(expectedSpin, (string)result["spin"]!);
        // OpenBLAS gets the CPU's best kernels (an OpenBLAS older than the CPU falls back to generic ones) unless the user chose.
        string expectedCore = Environment.GetEnvironmentVariable(PythonReference.OpenBlasCoreTypeVariable) ?? PythonReference.OpenBlasCoreType() ?? "unset";
        Assert.Equal(expectedCore, (string)result["core"]!);
    }

    [Fact]
    public void AMissingTorchIsReportedWithTheScriptsMessage()
    {
        string script = FakeScript("echo 'bench_reference.py: python cannot import torch' >&2; exit 3");

        var e = Assert.Throws<PythonReferenceException>(() => PythonReference.Run("/bin/sh", script, 1, false, TimeSpan.FromMinutes(1)));

        Assert.Equal("/bin/sh has no torch: bench_reference.py: python cannot import torch", e.Message);
    }

    [Theory]
    [InlineData("echo 'Traceback' >&2; echo 'ValueError: boom' >&2; exit 1", "exited with status 1: ValueError: boom")]
    [InlineData("echo 'not json'", "printed 'not json' last; expected a JSON object")]
    [InlineData("echo '[1, 2]'", "printed '[1, 2]' last; expected a JSON object")]
    [InlineData("true", "printed nothing on stdout")]
    public void AFailingOrSilentScriptIsOneSentence(string body, string expected)
    {
        string script = FakeScript(body);

        var e = Assert.Throws<PythonReferenceException>(() => PythonReference.Run("/bin/sh", script, 1, false, TimeSpan.FromMinutes(1)));

        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AnInterpreterThatDoesNotExistIsReportedNotThrownAsIs()
    {
        var e = Assert.Throws<PythonReferenceException>(() =>
            PythonReference.Run("/nonexistent/python3", "script.py", 1, false, TimeSpan.FromMinutes(1)));

        Assert.StartsWith("/nonexistent/python3 could not be started", e.Message);
    }

    [Fact]
    public void AScriptPastTheLimitIsStopped()
    {
        string script = FakeScript("sleep 600");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var e = Assert.Throws<PythonReferenceException>(() => PythonReference.Run("/bin/sh", script, 1, false, TimeSpan.FromSeconds(1)));

        Assert.Contains("ran past its limit", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(300), $"took {clock.Elapsed}: the child was not stopped");
    }
}
