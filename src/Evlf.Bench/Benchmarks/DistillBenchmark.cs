using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Fusion;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// The end-to-end distill of the released recipe (<c>--preset released</c>: mgd3 + EVLF, IPC 10, sampling from noise, one
/// sample per image; the bench's bundle, data and fusion training) as its own `evlf distill` process, the way a user runs
/// it and the way the PyTorch twin runs. The default preset's candidates, herding's choice among them and real starts have
/// no twin, so the bench leaves them out and both sides do the same work. It reports the pipeline's own clock as
/// <c>seconds</c>, the process's wall time with start-up as <c>process_seconds</c>, and the manifest's stages. Inside the
/// bench's process, after the benchmarks before it, the same distill measured 10–30% slower (77–92 s against 70–72 s
/// alone).
/// Left out with <see cref="BenchOptions.SkipDistill"/> or without the bundle.
/// </summary>
public sealed class DistillBenchmark : IBenchmark
{
    /// <summary>The report's key, shared with the PyTorch twin's comparison.</summary>
    public const string Key = "distill_end_to_end";

    /// <summary>Training (and test) images of --quick's end-to-end distill: a third of Fashion-MNIST's training split.</summary>
    public const int QuickTrainImages = 20_000;

    /// <summary>
    /// The fusion training of the bench's distill: with --quick one epoch over 4000 samples, so that the C# distill and
    /// its PyTorch twin fit the ten minutes of the quick bench; otherwise the whole job's.
    /// </summary>
    public static FusionTrainingOptions FusionTraining(bool quick) =>
        quick ? new FusionTrainingOptions(Epochs: 1, MaxSamples: 4000) : new FusionTrainingOptions();

    /// <summary>The first images of each split the bench's distill reads (<c>--max-train</c>); null: all of them.</summary>
    public static int? MaxTrain(bool quick) => quick ? QuickTrainImages : null;

    /// <summary>
    /// The `evlf distill` command line of the bench's distill into <paramref name="outDir"/>. The flags say every option
    /// the Python twin gets (<see cref="PipelineReference.Arguments"/>), so the two sides cannot drift apart
    /// (<c>--fusion-samples 0</c> is every image, as MaxSamples null); the released preset samples as the twin does.
    /// </summary>
    public static IReadOnlyList<string> Arguments(BenchOptions o, string outDir)
    {
        var training = FusionTraining(o.Quick);
        string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
        var arguments = new List<string> { "distill", "--preset", "released", "--data", o.Data, "--bundle", o.Bundle, "--out", outDir, "--quiet",
            "--fusion-epochs", Number(training.Epochs), "--fusion-samples", Number(training.MaxSamples ?? 0) };
        if (MaxTrain(o.Quick) is int maxTrain) arguments.AddRange(["--max-train", Number(maxTrain)]);
        return arguments;
    }

    public void Run(BenchContext context)
    {
        var o = context.Options;
        if (o.SkipDistill || context.Bundle is null) return;
        string outDir = Directory.CreateTempSubdirectory("evlf-bench-distill-").FullName;
        var training = FusionTraining(o.Quick);
        var arguments = Arguments(o, outDir);
        var sw = Stopwatch.StartNew();
        RunEvlf(context.StartEvlf(), arguments, context.CancellationToken);
        double processSeconds = sw.Elapsed.TotalSeconds;
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")))!.AsObject();
        int images = Directory.GetFiles(Path.Combine(outDir, "images"), "*.png", SearchOption.AllDirectories).Length;
        context.Report[Key] = new JsonObject
        {
            // The pipeline's own clock (data and bundle loading included), as the Python reference's "seconds".
            ["seconds"] = Math.Round(manifest["seconds"]!.GetValue<double>(), 1), ["process_seconds"] = Math.Round(processSeconds, 1),
            ["images"] = images, ["fusion_epochs"] = training.Epochs, ["fusion_samples"] = training.MaxSamples,
            ["stages"] = manifest["stages"]?.DeepClone(), ["train_images"] = manifest["data"]?["train"]?.DeepClone(),
            ["test_images"] = manifest["data"]?["test"]?.DeepClone(), ["command"] = "evlf " + string.Join(' ', arguments),
        };
        context.Output.Line(FormattableString.Invariant($"distill (released recipe: mgd3 + EVLF, IPC 10{(o.Quick ? $", quick: fusion 1 epoch of 4000, first {QuickTrainImages} images" : "")}), its own process: {manifest["seconds"]!.GetValue<double>() / 60:F1} min ({processSeconds:F0} s with start-up)"));
        Directory.Delete(outDir, true);
    }

    /// <summary>Runs evlf with <paramref name="arguments"/> and waits for it; a failure is an exception with the child's last line of output.</summary>
    static void RunEvlf(ProcessStartInfo start, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var run = ChildProcess.Run(start, Timeout.InfiniteTimeSpan, cancellationToken);
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"evlf {string.Join(' ', arguments)} exited with status {run.ExitCode}: {ChildProcess.LastLine(run.Stderr + "\n" + run.Stdout) ?? "no output"}");
    }
}
