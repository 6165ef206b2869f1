using System.Text.Json.Nodes;
using Evlf.Bench.Benchmarks;

namespace Evlf.Bench.PyTorch;

/// <summary>
/// The bench's end-to-end distill again in PyTorch eager (tools/bench/pipeline_reference.py: the same bundle, data,
/// fusion epochs and samples, threads) and the C# speedup, total and per stage, under python_reference's
/// <see cref="PipelineReference.Key"/> and its ratios. Runs only after both the C# distill and the stages' twin; a
/// missing interpreter, a slow BLAS, data the script cannot read or a failing script is one line and a "skipped" or
/// "error" entry.
/// </summary>
public sealed class PythonPipelineBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        if (context.Report[PythonStagesBenchmark.Key] is not JsonObject python || context.Report[DistillBenchmark.Key] is not JsonObject distill) return;
        python[PipelineReference.Key] = Measure(context, distill, python);
    }

    static JsonObject Measure(BenchContext context, JsonObject distill, JsonObject python)
    {
        var o = context.Options;
        var log = context.Output;
        if (PipelineReference.InterpreterSkipped(python) is string skipped) return new JsonObject { ["skipped"] = skipped };
        if (PipelineReference.SlowBlas(context.Report, python) is string slow)
        {
            log.Line($"python reference, end-to-end distill: skipped ({slow})");
            return new JsonObject { ["skipped"] = slow };
        }
        string interpreter = o.Python ?? PythonReference.DefaultInterpreter;
        string? data = PipelineReference.DataDirectory(o.Data, out var why);
        if (data is null)
        {
            log.Line($"python reference, end-to-end distill: skipped ({why})");
            return new JsonObject { ["skipped"] = why };
        }
        string outDir = Directory.CreateTempSubdirectory("evlf-bench-pyref-").FullName;
        try
        {
            string script = PythonReference.FindScript(PipelineReference.ScriptPath)
                ?? throw new PythonReferenceException($"{PipelineReference.ScriptPath} was not found under the working directory or above the evlf binary; run evlf bench from the repository root.");
            var training = DistillBenchmark.FusionTraining(o.Quick);
            var arguments = PipelineReference.Arguments(Path.GetFullPath(o.Bundle), data, outDir, training, context.Threads, DistillBenchmark.MaxTrain(o.Quick));
            long trainImages = (long)(PipelineReference.PositiveNumber(distill["train_images"]) ?? 60_000);
            log.Line($"python reference, end-to-end distill: {interpreter} {script} {string.Join(' ', arguments)} ...");
            var result = PythonReference.RunScript(interpreter, script, arguments, PipelineReference.Timeout(training, trainImages));
            var rows = PipelineReference.Compare(distill, result);
            PipelineReference.Record(result, rows);
            if (result["speedup"] is JsonNode speedup)
            {
                python["ratios"] ??= new JsonObject();
                python["ratios"]![PipelineReference.Key] = speedup.DeepClone();
            }
            var F = BenchContext.Number;
            log.Table(["distill stage", "C# s", "PyTorch eager s", "C# speedup"],
                rows.Select(r => new[] { r.Stage, F(r.CSharpSeconds), F(r.PythonSeconds), F(r.Speedup) + "×" }));
            log.Line(FormattableString.Invariant($"python reference, end-to-end distill: {result["seconds"]} s in PyTorch eager ({result["threads"]} threads); speedup > 1: C# is faster"));
            return result;
        }
        catch (PythonReferenceException e)
        {
            log.Line($"python reference, end-to-end distill: {e.Message}");
            return new JsonObject { ["error"] = e.Message };
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }
}
