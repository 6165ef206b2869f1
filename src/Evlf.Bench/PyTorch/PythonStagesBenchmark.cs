using System.Text.Json.Nodes;

namespace Evlf.Bench.PyTorch;

/// <summary>
/// The stages that have PyTorch-eager twins (tools/bench/bench_reference.py: GEMM, fusion training, ConvNet-3 DSA
/// training, sampler math, k-means), in this run and with these threads, and the C# speedup of each, under
/// <c>python_reference</c>. A missing interpreter or a failing script is one line and a "skipped" or "error" entry,
/// never thrown. Left out with <see cref="BenchOptions.NoPython"/>.
/// </summary>
public sealed class PythonStagesBenchmark : IBenchmark
{
    /// <summary>The report's key of the PyTorch-eager figures (the end-to-end twin adds its own under it).</summary>
    public const string Key = "python_reference";

    public void Run(BenchContext context)
    {
        if (context.Options.NoPython) return;
        context.Report[Key] = Measure(context);
    }

    static JsonObject Measure(BenchContext context)
    {
        var o = context.Options;
        var log = context.Output;
        string interpreter = o.Python ?? PythonReference.DefaultInterpreter;
        if (o.Python is null && !File.Exists(interpreter))
        {
            log.Line($"python reference: skipped ({interpreter} not found; --python PATH names another interpreter)");
            return new JsonObject { ["skipped"] = $"{interpreter} not found" };
        }
        try
        {
            string script = PythonReference.FindScript()
                ?? throw new PythonReferenceException($"{PythonReference.ScriptPath} was not found under the working directory or above the evlf binary; run evlf bench from the repository root.");
            log.Line($"python reference: {interpreter} {script} --threads {context.Threads}{(o.Quick ? " --quick" : "")} ...");
            var python = PythonReference.Run(interpreter, script, context.Threads, o.Quick, PythonReference.Timeout(o.Quick));
            var comparisons = PythonReference.Compare(context.Report, python);
            python["ratios"] = PythonReference.Ratios(comparisons);
            var F = BenchContext.Number;
            log.Table(["stage", "C#", "PyTorch eager", "unit", "C# speedup"],
                comparisons.Select(c => new[] { c.Stage.Key, F(c.CSharp), F(c.Python), c.Stage.Unit, F(c.Speedup) + "×" }));
            log.Line(FormattableString.Invariant($"python reference: torch {python["torch_version"]}, {python["threads"]} threads, BLAS {python["blas"]?["torch_blas_info"]}{(python[PythonReference.OpenBlasCoreTypeVariable] is JsonNode core ? $" ({PythonReference.OpenBlasCoreTypeVariable}={core})" : "")}; speedup > 1: C# is faster"));
            return python;
        }
        catch (PythonReferenceException e)
        {
            log.Line($"python reference: {e.Message}");
            return new JsonObject { ["error"] = e.Message };
        }
    }
}
