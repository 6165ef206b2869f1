using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.Cli.Bench;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace Evlf.Cli.Commands;

/// <summary>
/// `evlf bench [--quick] [--out DIR]`: times each stage on this machine and prints ratios against baselines
/// measured in the same run: ONNX Runtime vs the importer per network, the importer vs the same TorchSharp
/// ops called by hand, fusion training, sampling, ConvNet-3 training, the end-to-end default distill, and
/// GFLOP/s against a GEMM peak measured here. Writes DIR/bench.json.
/// </summary>
public sealed class BenchCommand : Command<BenchCommand.Settings>
{
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
        [Description("Leave out the end-to-end distill.")]
        public bool SkipDistill { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        int threads = get_num_threads();
        int runs = s.Quick ? 5 : 20;
        var report = new JsonObject
        {
            ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["torch_threads"] = threads, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
            ["commit"] = Evlf.OnnxHybrid.Models.Pretrain.Pretrainer.GitCommit(),
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
            double importer = Timing.MedianMilliseconds(() => { using (no_grad()) module.forward(inputs); }, runs: runs);
            double handWritten = Timing.MedianMilliseconds(() => { using (no_grad()) direct.Forward(inputs[CrossAttentionFusion.LatentInput], inputs[CrossAttentionFusion.TextInput]); }, runs: runs);
            double diff;
            using (no_grad()) diff = (module.forward(inputs)[CrossAttentionFusion.FusedOutput] - direct.Forward(inputs[CrossAttentionFusion.LatentInput], inputs[CrossAttentionFusion.TextInput])).abs().max().item<float>();
            report["importer_vs_handwritten"] = new JsonObject
            {
                ["network"] = "fusion (EVLF default), batch 16, eval",
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

        // ConvNet-3 training under the DSA protocol on 100 real images (IPC 10).
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

        if (!s.SkipDistill && bundle is not null)
        {
            string outDir = Directory.CreateTempSubdirectory("evlf-bench-distill-").FullName;
            var options = new DistillOptions { Data = s.Data, Bundle = s.Bundle, Out = outDir, Quiet = true,
                FusionTraining = s.Quick ? new FusionTrainingOptions(Epochs: 1, MaxSamples: 4000) : new FusionTrainingOptions() };
            var sw = Stopwatch.StartNew();
            var result = new DistillationPipeline(options).Run(cancellationToken);
            report["distill_end_to_end"] = new JsonObject
            {
                ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 1), ["images"] = result.Images,
                ["fusion_epochs"] = options.FusionTraining.Epochs, ["fusion_samples"] = options.FusionTraining.MaxSamples,
                ["stages"] = result.Manifest["stages"]?.DeepClone(),
            };
            Log(FormattableString.Invariant($"distill (mgd3 + EVLF, IPC 10{(s.Quick ? ", quick fusion" : "")}): {sw.Elapsed.TotalMinutes:F1} min"));
            Directory.Delete(outDir, true);
        }

        Directory.CreateDirectory(s.Out);
        string path = Path.Combine(s.Out, "bench.json");
        File.WriteAllText(path + ".tmp", report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
        Log($"wrote {path}");
        return 0;
    }

    static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
