using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.Cli.Bench;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Clustering;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace Evlf.Cli.Commands;

/// <summary>
/// `evlf bench [--quick] [--out DIR]`: times each stage on this machine and prints ratios against baselines
/// measured in the same run: ONNX Runtime vs the importer per network, the importer vs the same TorchSharp
/// ops called by hand, fusion training, sampling, ConvNet-3 training, k-means, the end-to-end default distill, and
/// GFLOP/s against a GEMM peak measured here; then, when an interpreter with torch is at hand, the same stages in
/// PyTorch eager (tools/reference/bench_reference.py, same threads) and the C#/Python speedups, and after the end-to-end
/// distill the same job in PyTorch eager (tools/reference/pipeline_reference.py). Writes DIR/bench.json.
/// </summary>
public sealed class BenchCommand : Command<BenchCommand.Settings>
{
    /// <summary>Training (and test) images of --quick's end-to-end distill: a third of Fashion-MNIST's training split.</summary>
    public const int QuickTrainImages = 20_000;

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")]
        [Description("Fewer repetitions and a shorter end-to-end distill (a few minutes in all).")]
        public bool Quick { get; init; }

        [CommandOption("--out <DIR>")]
        [DefaultValue(".")]
        public string Out { get; init; } = ".";

        [CommandOption("--bundle <DIR>")]
        [DefaultValue("models/fmnist-ldm")]
        public string Bundle { get; init; } = "models/fmnist-ldm";

        [CommandOption("--data <SPEC>")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--skip-distill")]
        [Description("Leave out the end-to-end distill (and its PyTorch-eager counterpart).")]
        public bool SkipDistill { get; init; }

        [CommandOption("--python <PATH>")]
        [Description("Interpreter with torch for tools/reference/bench_reference.py and pipeline_reference.py (default /usr/bin/python3, when it exists).")]
        public string? Python { get; init; }

        [CommandOption("--no-python")]
        [Description("Leave out the PyTorch-eager reference timings (stages and end-to-end distill) and their ratios.")]
        public bool NoPython { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        int threads = get_num_threads();
        int runs = s.Quick ? 5 : 20;
        // The report's place is checked before the benchmarks, which take minutes: a file evlf did not write is never replaced.
        string path = Path.Combine(s.Out, "bench.json");
        if (File.Exists(s.Out)) throw new UserInputException($"--out '{s.Out}' is a file; expected a folder for bench.json.");
        PathsApart.Require([new("--out", s.Out)], [new("--bundle", s.Bundle), new("--data", PathsApart.DataFolder(s.Data))], inputsMayLieInside: true);
        if (File.Exists(path) && !IsBenchReport(path))
            throw new UserInputException($"'{path}' exists and was not written by evlf bench; move it away or choose another --out (evlf never replaces what it did not write).");
        var report = new JsonObject
        {
            ["format"] = ReportFormat,
            ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["torch_threads"] = threads, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
            ["commit"] = Provenance.GitCommit(),
            ["quick"] = s.Quick,
        };
        void Log(string line) => Console.WriteLine(line);

        // Peak throughput references.
        using (NewDisposeScope())
        {
            var a = randn(1024, 1024);
            var b = randn(1024, 1024);
            double gemm = Timing.MedianMilliseconds(() => matmul(a, b), runs: runs);
            var x = randn(100, 128, 16, 16);
            var w = randn(128, 128, 3, 3);
            double conv = Timing.MedianMilliseconds(() => nn.functional.conv2d(x, w, padding: new long[] { 1, 1 }), runs: runs);
            double gemmGflops = 2.0 * 1024 * 1024 * 1024 / gemm / 1e6, convGflops = 2.0 * 100 * 128 * 128 * 9 * 256 / conv / 1e6;
            report["gemm_1024_gflops"] = Math.Round(gemmGflops, 1);
            report["conv3x3_128_16x16_b100_gflops"] = Math.Round(convGflops, 1);
            Log(FormattableString.Invariant($"GEMM 1024³: {gemmGflops:F1} GFLOP/s; conv 3×3 128→128 16×16 batch 100: {convGflops:F1} GFLOP/s"));
        }

        // Image input: decode JPEG + ADM centre crop to 256 + tensor, all cores (synthetic 300–500 px JPEGs).
        {
            string jpegs = Directory.CreateTempSubdirectory("evlf-bench-jpeg-").FullName;
            try
            {
                var files = DecodeThroughput.WriteSyntheticJpegs(jpegs, s.Quick ? 200 : 1000, 300, 500);
                var decode = DecodeThroughput.Measure(files, size: 256);
                report["decode_adm256_images_per_second"] = Math.Round(decode.ImagesPerSecond, 1);
                Log(FormattableString.Invariant($"image input: {decode.ImagesPerSecond:F0} JPEGs/s decoded, ADM-cropped to 256 and made tensors ({decode.Threads} threads, {decode.Images} images)"));
            }
            finally
            {
                Directory.Delete(jpegs, true);
            }
        }

        // ConvNet-3 training under the DSA protocol on 100 real images (IPC 10), before any importer module exists: importing
        // a graph with convolutions moves libtorch's convolutions off oneDNN for the process (ConvolutionBackend), while
        // `evlf eval`, which imports nothing, trains on oneDNN (about 1.8× faster here).
        var dataset = DataSpec.Open(s.Data);
        using (NewDisposeScope())
        {
            var chosen = RandomSelection.Select(dataset.Train, dataset.ClassNames.Count, 10, 0);
            var normalization = DatasetNormalization.For(DataSpec.Parse(s.Data), dataset);
            using var train = LabelledImages.Load(dataset.Train, normalization, dataset.Channels, 28, 28, chosen.SelectMany(c => c).ToList());
            using var test = LabelledImages.Load(dataset.Test, normalization, dataset.Channels, 28, 28, Enumerable.Range(0, 500).ToList());
            int epochs = s.Quick ? 50 : 200;
            var result = new DsaProtocol(new DsaProtocolOptions { Epochs = epochs }).Run(ClassifierArchitecture.ConvNet3, train, test, dataset.ClassNames.Count, 0);
            double imagesPerSecond = result.ImagesPerSecond;
            // ConvNet-3 (width 128, 28×28 padded to 32×32): ≈ 97 MFLOP forward per image, ×3 for training.
            double gflops = imagesPerSecond * 3 * 97e6 / 1e9;
            report["convnet3_training"] = new JsonObject
            {
                ["images_per_second"] = Math.Round(imagesPerSecond, 1), ["implied_gflops"] = Math.Round(gflops, 1),
                ["seconds_per_ipc10_1000_epochs"] = Math.Round(100 * 1000 / imagesPerSecond, 1),
            };
            Log(FormattableString.Invariant($"ConvNet-3 DSA training: {imagesPerSecond:F0} images/s ≈ {gflops:F0} GFLOP/s; IPC 10 × 1000 epochs ≈ {100 * 1000 / imagesPerSecond / 60:F1} min"));
        }

        // Networks: ONNX Runtime vs importer at batch 16, same threads.
        var networks = new List<NetworkTiming>();
        var fusionConfig = new FusionConfig();
        var fusionModel = CrossAttentionFusion.Build(fusionConfig, 0);
        networks.Add(NetworkBench.Measure("fusion (EVLF default)", fusionModel, 16, threads, runs));
        string fixture = Path.Combine("tests", "Evlf.OnnxHybrid.Tests", "Fixtures", "unet", "model.onnx");
        if (File.Exists(fixture)) networks.Add(NetworkBench.Measure("unet fixture (torch export)", OnnxModel.Load(fixture), 16, threads, runs));
        ModelBundle? bundle = Directory.Exists(s.Bundle) ? ModelBundle.Load(s.Bundle) : null;
        if (bundle is not null)
        {
            var m = bundle.Manifest;
            networks.Add(NetworkBench.Measure("vae encoder", OnnxModel.Load(bundle.PathOf(m.Vae.Encoder)), 16, threads, runs));
            networks.Add(NetworkBench.Measure("vae decoder", OnnxModel.Load(bundle.PathOf(m.Vae.Decoder)), 16, threads, runs));
            foreach (var (name, d) in m.Denoisers)
                networks.Add(NetworkBench.Measure($"{name} ({d.Kind})", OnnxModel.Load(bundle.PathOf(d.File)), 16, threads, runs,
                    new Dictionary<string, long> { ["seq"] = m.TextEncoder?.Tokenizer.MaxLength ?? 16 }));
        }
        var table = new Table().AddColumns("network", "batch", "ORT ms", "importer ms", "importer/ORT", "executor overhead %", "nodes");
        foreach (var n in networks)
            table.AddRow(new[] { n.Network, n.Batch.ToString(), F(n.OrtMs), F(n.ImporterMs), F(n.Ratio), F(n.ExecutorOverheadPercent), n.RuntimeNodes.ToString() }.Select(c => new Text(c)));
        AnsiConsole.Write(table);
        report["networks"] = JsonSerializer.SerializeToNode(networks);

        // The importer against the same TorchSharp ops written by hand (fusion module, eval, batch 16).
        using (NewDisposeScope())
        {
            var direct = new DirectFusionBaseline(fusionModel, fusionConfig);
            var inputs = RandomInputs.For(fusionModel, 0, 16);
            using var module = OnnxTorchModule.FromModel(fusionModel);
            module.eval();
            // Many short pairs: the medians of a few drift with the host's speed more than the difference measured.
            var (importer, handWritten) = Timing.MedianMillisecondsInterleaved(
                () => { using (no_grad()) module.forward(inputs); },
                () => { using (no_grad()) direct.Forward(inputs[CrossAttentionFusion.LatentInput], inputs[CrossAttentionFusion.TextInput]); },
                runs: 10 * runs);
            double diff;
            using (no_grad()) diff = (module.forward(inputs)[CrossAttentionFusion.FusedOutput] - direct.Forward(inputs[CrossAttentionFusion.LatentInput], inputs[CrossAttentionFusion.TextInput])).abs().max().item<float>();
            report["importer_vs_handwritten"] = new JsonObject
            {
                ["network"] = "fusion (EVLF default), batch 16, eval", ["timing"] = "interleaved runs, median of each",
                ["importer_ms"] = Math.Round(importer, 3), ["handwritten_ms"] = Math.Round(handWritten, 3),
                ["overhead_percent"] = Math.Round(100 * (importer / handWritten - 1), 1), ["max_abs_diff"] = diff,
            };
            Log(FormattableString.Invariant($"importer vs hand-written TorchSharp (fusion, batch 16): {importer:F2} ms vs {handWritten:F2} ms ({100 * (importer / handWritten - 1):+0.0;-0.0}%), max |diff| {diff:E1}"));
        }

        // Fusion training: one optimizer step = 2 micro-batches of 16 (the released recipe).
        using (NewDisposeScope())
        {
            var data = new FusionData(randn(64, 4, 8, 8), arange(64).remainder(10), randn(10, 16, 384), randn(10, 384));
            string dir = Directory.CreateTempSubdirectory("evlf-bench-fusion-").FullName;
            int steps = s.Quick ? 20 : 60;
            var sw = Stopwatch.StartNew();
            // 64 samples / batch 16 = 4 micro-batches per epoch, 2 optimizer steps per epoch.
            FusionTrainer.Train(fusionConfig with { TextDim = 384, TextLength = 16 }, data, new FusionTrainingOptions(Epochs: steps / 2, CheckpointEvery: 1_000_000), 0, dir);
            double msPerStep = sw.Elapsed.TotalMilliseconds / steps;
            Directory.Delete(dir, true);
            report["fusion_training_ms_per_step"] = Math.Round(msPerStep, 2);
            Log(FormattableString.Invariant($"fusion training: {msPerStep:F1} ms per optimizer step (2 × 16 samples, including checkpoint/log overhead)"));
        }

        // Sampling: DiT with CFG, one class of 10 images, 50 steps, in ONNX Runtime.
        if (bundle is not null && bundle.Manifest.Denoisers.Any(d => d.Value.Kind == DenoiserSpec.DitClass))
        {
            using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu, threads));
            string dit = bundle.Manifest.Denoisers.First(d => d.Value.Kind == DenoiserSpec.DitClass).Key;
            double ms = Timing.MedianMilliseconds(() => runtime.Sample(dit, 0, 10, new SampleOptions(50, 4.0), new TorchSharp.torch.Generator(1)), warmup: 1, runs: s.Quick ? 3 : 5);
            report["sampler_ms_per_step"] = Math.Round(ms / 50, 3);
            Log(FormattableString.Invariant($"sampling: {ms / 50:F2} ms per step (DiT, CFG ×2 batch, 10 images)"));
        }

        // The sampler's math without a network, as bench_reference.py times it: DiT CFG (s 4, channels 0–2) on a
        // [cond; uncond] output of 2 × 10, then the DDPM learned-range step, over the 50 respaced steps.
        using (NewDisposeScope())
        {
            var sampler = new DdpmSampler(SpacedSchedule.FromSections(NoiseSchedule.Create(NoiseScheduleOptions.DiT), "50"));
            var x = randn(10, 4, 8, 8);
            var raw = randn(20, 8, 8, 8);
            var noise = randn(10, 4, 8, 8);
            int steps = sampler.Schedule.Count;
            double ms = Timing.MedianMilliseconds(() =>
            {
                for (int i = steps - 1; i >= 0; i--)
                {
                    using var step = NewDisposeScope();
                    sampler.Step(ClassifierFreeGuidance.CombineHalves(raw, GuidanceOptions.DiT), i, x, noise);
                }
            }, runs: runs) / steps;
            report["sampler_step_math_ms_per_step"] = Math.Round(ms, 4);
            Log(FormattableString.Invariant($"sampler math without the network: {ms * 1000:F0} µs per step (CFG + DDPM learned range, 10 images)"));
        }

        // k-means as the prototypes stage runs it (k-means++, one init), on 6000 × 256 overlapping blobs drawn as
        // bench_reference.py draws them; median over seeds, since each seed needs its own number of iterations.
        using (NewDisposeScope())
        {
            var g = new Generator(0);
            var centres = randn(10, 256, generator: g) * 0.15;
            var x = centres.index_select(0, arange(6000).remainder(10)) + randn(6000, 256, generator: g);
            var seconds = new List<double>();
            var iterations = new List<int>();
            for (int seed = 0; seed < (s.Quick ? 3 : 5); seed++)
            {
                var sw = Stopwatch.StartNew();
                using var fit = KMeans.Fit(x, 10, new KMeansOptions(Seed: seed));
                seconds.Add(sw.Elapsed.TotalSeconds);
                iterations.Add(fit.Iterations);
            }
            double median = Median(seconds), medianIterations = Median(iterations.Select(i => (double)i).ToList());
            report["kmeans_6000x256_k10"] = new JsonObject
            {
                ["seconds"] = Math.Round(median, 4), ["ms_per_iteration"] = Math.Round(1000 * median / medianIterations, 3),
                ["iterations_median"] = medianIterations, ["iterations"] = new JsonArray(iterations.Select(i => (JsonNode)i).ToArray()),
                ["data_sum"] = x.sum(ScalarType.Float64).item<double>(),
            };
            Log(FormattableString.Invariant($"k-means 6000×256, k 10: {median:F3} s, {medianIterations} Lloyd iterations (median of {seconds.Count} seeds)"));
        }

        DistillOptions? distilled = null;
        if (!s.SkipDistill && bundle is not null)
        {
            string outDir = Directory.CreateTempSubdirectory("evlf-bench-distill-").FullName;
            // --quick: one fusion epoch over 4000 samples and the first QuickTrainImages images of each split, so that the
            // C# distill and its PyTorch twin fit the ten minutes of the quick bench; the full bench distills the whole job.
            var options = new DistillOptions { Data = s.Data, Bundle = s.Bundle, Out = outDir, Quiet = true,
                FusionTraining = s.Quick ? new FusionTrainingOptions(Epochs: 1, MaxSamples: 4000) : new FusionTrainingOptions(),
                MaxTrain = s.Quick ? QuickTrainImages : null };
            distilled = options;
            // A fresh `evlf distill` process, as a user runs it and as the Python reference runs: inside this process,
            // after the benchmarks above, the same distill measured 10–30% slower (77–92 s against 70–72 s alone).
            // The flags say every option the Python twin gets from `options` (PipelineReference.Arguments), so the two
            // sides cannot drift apart; --fusion-samples 0 is every image, as MaxSamples null.
            string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
            var arguments = new List<string> { "distill", "--data", s.Data, "--bundle", s.Bundle, "--out", outDir, "--quiet",
                "--fusion-epochs", Number(options.FusionTraining.Epochs), "--fusion-samples", Number(options.FusionTraining.MaxSamples ?? 0) };
            if (options.MaxTrain is int maxTrain) arguments.AddRange(["--max-train", Number(maxTrain)]);
            var sw = Stopwatch.StartNew();
            RunDistillProcess(arguments, cancellationToken);
            double processSeconds = sw.Elapsed.TotalSeconds;
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")))!.AsObject();
            int images = Directory.GetFiles(Path.Combine(outDir, "images"), "*.png", SearchOption.AllDirectories).Length;
            report["distill_end_to_end"] = new JsonObject
            {
                // The pipeline's own clock (data and bundle loading included), as the Python reference's "seconds".
                ["seconds"] = Math.Round(manifest["seconds"]!.GetValue<double>(), 1), ["process_seconds"] = Math.Round(processSeconds, 1),
                ["images"] = images, ["fusion_epochs"] = options.FusionTraining.Epochs, ["fusion_samples"] = options.FusionTraining.MaxSamples,
                ["stages"] = manifest["stages"]?.DeepClone(), ["train_images"] = manifest["data"]?["train"]?.DeepClone(),
                ["test_images"] = manifest["data"]?["test"]?.DeepClone(), ["command"] = "evlf " + string.Join(' ', arguments),
            };
            Log(FormattableString.Invariant($"distill (mgd3 + EVLF, IPC 10{(s.Quick ? $", quick: fusion 1 epoch of 4000, first {QuickTrainImages} images" : "")}), its own process: {manifest["seconds"]!.GetValue<double>() / 60:F1} min ({processSeconds:F0} s with start-up)"));
            Directory.Delete(outDir, true);
        }

        if (!s.NoPython)
        {
            var python = RunPythonReference(s, threads, report, Log);
            if (distilled is not null && report[PipelineReference.Key] is JsonObject distill)
                python[PipelineReference.Key] = RunPipelineReference(s, threads, distilled, distill, report, python, Log);
            report["python_reference"] = python;
        }

        Directory.CreateDirectory(s.Out);
        AtomicFile.WriteJson(path, report);
        Log($"wrote {path}");
        return 0;
    }

    /// <summary>Value of bench.json's <c>format</c>.</summary>
    public const string ReportFormat = "evlf-bench/1";

    /// <summary>Whether the file at <paramref name="path"/> is a bench.json evlf wrote (its format, or the machine and commit of earlier reports).</summary>
    public static bool IsBenchReport(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o
                && (o["format"] is JsonValue f && f.TryGetValue<string>(out var v) && v == ReportFormat || o["machine"] is JsonObject && o.ContainsKey("commit"));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// The same stages in PyTorch eager, in this run and with these threads, and the C# speedup of each; a missing
    /// interpreter or a failing script is reported as one line and an "error" entry, never thrown.
    /// </summary>
    static JsonObject RunPythonReference(Settings s, int threads, JsonObject report, Action<string> log)
    {
        string interpreter = s.Python ?? PythonReference.DefaultInterpreter;
        if (s.Python is null && !File.Exists(interpreter))
        {
            log($"python reference: skipped ({interpreter} not found; --python PATH names another interpreter)");
            return new JsonObject { ["skipped"] = $"{interpreter} not found" };
        }
        try
        {
            string script = PythonReference.FindScript()
                ?? throw new PythonReferenceException($"{PythonReference.ScriptPath} was not found under the working directory or above the evlf binary; run evlf bench from the repository root.");
            log($"python reference: {interpreter} {script} --threads {threads}{(s.Quick ? " --quick" : "")} ...");
            var python = PythonReference.Run(interpreter, script, threads, s.Quick, PythonReference.Timeout(s.Quick));
            var comparisons = PythonReference.Compare(report, python);
            python["ratios"] = PythonReference.Ratios(comparisons);
            var table = new Table().AddColumns("stage", "C#", "PyTorch eager", "unit", "C# speedup");
            foreach (var c in comparisons)
                table.AddRow(new[] { c.Stage.Key, F(c.CSharp), F(c.Python), c.Stage.Unit, F(c.Speedup) + "×" }.Select(t => new Text(t)));
            AnsiConsole.Write(table);
            log(FormattableString.Invariant($"python reference: torch {python["torch_version"]}, {python["threads"]} threads, BLAS {python["blas"]?["torch_blas_info"]}{(python[PythonReference.OpenBlasCoreTypeVariable] is JsonNode core ? $" ({PythonReference.OpenBlasCoreTypeVariable}={core})" : "")}; speedup > 1: C# is faster"));
            return python;
        }
        catch (PythonReferenceException e)
        {
            log($"python reference: {e.Message}");
            return new JsonObject { ["error"] = e.Message };
        }
    }

    /// <summary>
    /// The same distill in PyTorch eager (tools/reference/pipeline_reference.py: same bundle, data, fusion epochs and
    /// samples, threads) and the C# speedup, total and per stage; also added to python_reference's ratios. A missing
    /// interpreter, data the script cannot read or a failing script is one line and a "skipped" or "error" entry.
    /// </summary>
    static JsonObject RunPipelineReference(Settings s, int threads, DistillOptions distilled, JsonObject distill, JsonObject report, JsonObject python, Action<string> log)
    {
        if (PipelineReference.InterpreterSkipped(python) is string skipped) return new JsonObject { ["skipped"] = skipped };
        if (PipelineReference.SlowBlas(report, python) is string slow)
        {
            log($"python reference, end-to-end distill: skipped ({slow})");
            return new JsonObject { ["skipped"] = slow };
        }
        string interpreter = s.Python ?? PythonReference.DefaultInterpreter;
        string? data = PipelineReference.DataDirectory(s.Data, out var why);
        if (data is null)
        {
            log($"python reference, end-to-end distill: skipped ({why})");
            return new JsonObject { ["skipped"] = why };
        }
        string outDir = Directory.CreateTempSubdirectory("evlf-bench-pyref-").FullName;
        try
        {
            string script = PythonReference.FindScript(PipelineReference.ScriptPath)
                ?? throw new PythonReferenceException($"{PipelineReference.ScriptPath} was not found under the working directory or above the evlf binary; run evlf bench from the repository root.");
            var arguments = PipelineReference.Arguments(Path.GetFullPath(s.Bundle), data, outDir, distilled.FusionTraining, threads, distilled.MaxTrain);
            long trainImages = (long)(PipelineReference.PositiveNumber(distill["train_images"]) ?? 60_000);
            log($"python reference, end-to-end distill: {interpreter} {script} {string.Join(' ', arguments)} ...");
            var result = PythonReference.RunScript(interpreter, script, arguments, PipelineReference.Timeout(distilled.FusionTraining, trainImages));
            var rows = PipelineReference.Compare(distill, result);
            PipelineReference.Record(result, rows);
            if (result["speedup"] is JsonNode speedup)
            {
                python["ratios"] ??= new JsonObject();
                python["ratios"]![PipelineReference.Key] = speedup.DeepClone();
            }
            var table = new Table().AddColumns("distill stage", "C# s", "PyTorch eager s", "C# speedup");
            foreach (var r in rows)
                table.AddRow(new[] { r.Stage, F(r.CSharpSeconds), F(r.PythonSeconds), F(r.Speedup) + "×" }.Select(t => new Text(t)));
            AnsiConsole.Write(table);
            log(FormattableString.Invariant($"python reference, end-to-end distill: {result["seconds"]} s in PyTorch eager ({result["threads"]} threads); speedup > 1: C# is faster"));
            return result;
        }
        catch (PythonReferenceException e)
        {
            log($"python reference, end-to-end distill: {e.Message}");
            return new JsonObject { ["error"] = e.Message };
        }
        finally
        {
            Directory.Delete(outDir, true);
        }
    }

    /// <summary>
    /// Runs this evlf with <paramref name="arguments"/> in a child process (through the dotnet host when that is how this
    /// one runs) and waits for it; a failure is an exception with the child's last line of output.
    /// </summary>
    static void RunDistillProcess(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var run = ChildProcess.Run(start, Timeout.InfiniteTimeSpan, cancellationToken);
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"evlf {string.Join(' ', arguments)} exited with status {run.ExitCode}: {ChildProcess.LastLine(run.Stderr + "\n" + run.Stdout) ?? "no output"}");
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
