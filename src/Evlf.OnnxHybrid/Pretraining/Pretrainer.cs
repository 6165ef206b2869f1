using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Text;
using Evlf.OnnxHybrid.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Pretraining;

/// <summary>What `evlf pretrain` measured; written to pretrain-report.json.</summary>
public sealed record PretrainReport
{
    public string Bundle { get; init; } = "";
    public string Commit { get; init; } = "";
    public int Seed { get; init; }
    public double VaeTestPsnr { get; init; }
    public double ScalingFactor { get; init; }
    public double[] VaeLosses { get; init; } = Array.Empty<double>();
    public double[] UNetLosses { get; init; } = Array.Empty<double>();
    public double[] DitLosses { get; init; } = Array.Empty<double>();
    /// <summary>Wall seconds per stage, summed over every attempt of a resumed run.</summary>
    public Dictionary<string, double> StageSeconds { get; init; } = new();
    /// <summary>The sum of <see cref="StageSeconds"/>.</summary>
    public double TotalSeconds { get; init; }
    public PretrainOptions? Options { get; init; }
    public FidelityClassifier? FidelityClassifier { get; set; }
    public List<DenoiserFidelity>? Fidelity { get; set; }
}

/// <summary>
/// Trains the default bundle: KL-VAE → latents of the training split → text UNet and class DiT, all
/// through the importer, each stage checkpointed under OUT/.pretrain so a killed run resumes. Writes the
/// ONNX files and bundle.json into OUT.
/// </summary>
public static class Pretrainer
{
    public const string WorkFolder = ".pretrain";

    /// <summary>Everything <see cref="Run"/> writes into OUT: the bundle's files, its report and the checkpoints.</summary>
    public static readonly string[] OutputEntries =
        [BundleManifest.FileName, "vae_encoder.onnx", "vae_decoder.onnx", "unet.onnx", "dit.onnx", ReportFile, WorkFolder];

    /// <summary>The report <see cref="Run"/> writes beside the bundle.</summary>
    public const string ReportFile = "pretrain-report.json";

    /// <summary>
    /// A bundle folder this command wrote before folders carried evlf's marker (it holds <see cref="ReportFile"/>), with its
    /// entries (<see cref="Output.OutputFolder.LegacyRule"/>).
    /// </summary>
    public static IEnumerable<string>? LegacyOutput(string folder) => File.Exists(Path.Combine(folder, ReportFile)) ? OutputEntries : null;

    public static PretrainReport Run(ImageDataset dataset, string outDir, PretrainOptions o, ILogger? logger = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var device = ComputeDevice.Resolve(o.Device, logger, PretrainOptions.OptionName(nameof(PretrainOptions.Device)));
        // Continuing (PretrainOptions.From): the bundle's VAE is kept and its PSNR measured again; its denoisers are the start.
        // Checked before anything is read or written.
        var from = o.From is string fromFolder ? StartBundle(fromFolder, outDir, dataset, o) : null;
        string work = Path.Combine(outDir, WorkFolder);
        Directory.CreateDirectory(work);
        RecordStart(work, from);
        manual_seed(o.Seed);
        // Wall time per stage summed over every attempt (a resumed run adds to what earlier attempts spent; an attempt
        // that is cancelled saves its share, one that is killed outright loses the time since its last finished stage).
        string secondsPath = Path.Combine(work, "stage-seconds.json");
        var earlier = File.Exists(secondsPath)
            ? JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(secondsPath)) ?? new()
            : new Dictionary<string, double>();
        var seconds = new Dictionary<string, double>();
        void Stage(string name, Action run)
        {
            var sw = Stopwatch.StartNew();
            logger?.LogInformation("{Message}", $"stage {name}");
            try { run(); }
            finally
            {
                earlier[name] = Math.Round(earlier.GetValueOrDefault(name) + sw.Elapsed.TotalSeconds, 1);
                seconds[name] = earlier[name];
                AtomicFile.Write(secondsPath, JsonSerializer.Serialize(earlier));
            }
        }

        Tensor train = null!, test = null!;
        Stage("load", () =>
        {
            train = BundleImages.Load(dataset.Train, o.ImageSize, 1).DetachFromDisposeScope();
            test = BundleImages.Load(dataset.Test, o.ImageSize, 1).DetachFromDisposeScope();
        });

        // A continued bundle keeps its encoder, so its latents come first and its decoder can train on them (VaeDecoder).
        VaeStageResult vae = null!;
        LatentSet latents = null!;
        void VaeStageOnce()
        {
            Stage("vae", () => vae = from is null
                ? VaeStage.Run(o.Vae, train, test, o.VaeTraining, o.Seed, work, progress, cancellationToken, device)
                : VaeStage.ContinueDecoder(from, latents, train, test, o.VaeDecoder, o.Seed, work, progress, cancellationToken, device));
            logger?.LogInformation("{Message}", FormattableString.Invariant($"vae: test PSNR {vae.TestPsnr:F2} dB, scaling factor {vae.ScalingFactor:F4}"));
        }
        if (from is null) VaeStageOnce();

        Stage("latents", () =>
        {
            using var encoder = OnnxSession.Open(from is null ? vae.EncoderPath : from.PathOf(from.Manifest.Vae.Encoder));
            double scaling = from is null ? vae.ScalingFactor : from.Manifest.Latent.ScalingFactor;
            var means = new List<Tensor>();
            var stds = new List<Tensor>();
            for (long start = 0; start < train.shape[0]; start += 500)
            {
                using var scope = NewDisposeScope();
                var r = encoder.Run(new Dictionary<string, Tensor> { [KlVae.ImageInput] = train.narrow(0, start, Math.Min(500, train.shape[0] - start)) });
                means.Add((r[KlVae.MeanOutput] * scaling).MoveToOuterDisposeScope());
                stds.Add(((r[KlVae.LogVarOutput].clamp(-30, 20) * 0.5).exp() * scaling).MoveToOuterDisposeScope());
            }
            latents = new LatentSet(cat(means, 0).DetachFromDisposeScope(), cat(stds, 0).DetachFromDisposeScope(),
                tensor(dataset.Train.Labels().Select(l => (long)l).ToArray()).DetachFromDisposeScope());
        });
        if (from is not null) VaeStageOnce();

        var classNames = dataset.ClassNames.ToList();
        var promptNames = dataset.Name.StartsWith("fashion-mnist", StringComparison.Ordinal) ? FashionMnist.PromptNames.ToList() : classNames;
        var manifest = from is not null ? ContinuedManifest(from, o.Name) : new BundleManifest
        {
            Name = o.Name,
            Image = new ImageSpec { Channels = 1, Size = o.ImageSize },
            Latent = new LatentSpec { Channels = o.Vae.LatentChannels, Size = o.Vae.LatentSize, ScalingFactor = Math.Round(vae.ScalingFactor, 6) },
            TextEncoder = TextEncoderConfig.MiniLm(o.TextMaxLength, PoolingRule.Mean),
            PromptTemplate = o.PromptTemplate,
            Classes = classNames,
            PromptNames = promptNames,
            Denoisers = new()
            {
                ["unet"] = new DenoiserSpec
                {
                    Kind = DenoiserSpec.UNetText, File = "unet.onnx", SampleInput = TextUNet.SampleInput, TimestepInput = TextUNet.TimestepInput,
                    ConditionInput = TextUNet.ContextInput, Output = TextUNet.NoiseOutput, Schedule = ScheduleSpec.ScaledLinear,
                    FinetunePattern = @"(bias|norm|time_embedding)",
                },
                ["dit"] = new DenoiserSpec
                {
                    Kind = DenoiserSpec.DitClass, File = "dit.onnx", LearnedSigma = o.Dit.LearnSigma, NullClass = o.Dit.NullClass,
                    Schedule = ScheduleSpec.Linear, FinetunePattern = @"(bias|norm|gamma|y_embedder)",
                },
            },
        };

        Tensor classContexts = null!, nullContext = null!;
        Stage("text", () =>
        {
            using var encoder = TextEncoder.Open(manifest.TextEncoder!, outDir);
            using var prompts = encoder.Encode(Enumerable.Range(0, classNames.Count).Select(manifest.Prompt).ToList());
            using var empty = encoder.Encode(new[] { "" });
            classContexts = prompts.Tokens.clone().DetachFromDisposeScope();
            nullContext = empty.Tokens.clone().DetachFromDisposeScope();
        });

        DenoiserTrainingResult unet = null!, dit = null!;
        Stage("unet", () => unet = from is null
            ? DenoiserStage.TrainUNet(o.UNet with { ContextDim = (int)classContexts.shape[2], ContextLength = (int)classContexts.shape[1] },
                latents, classContexts, nullContext, o.UNetTraining, o.Seed, work, progress, cancellationToken, device)
            : DenoiserStage.ContinueUNet(from, latents, classContexts, nullContext, o.UNetTraining, o.Seed, work, progress, cancellationToken, device));
        Stage("dit", () => dit = from is null
            ? DenoiserStage.TrainDit(o.Dit with { Classes = classNames.Count }, latents, o.DitTraining, o.Seed, work, progress, cancellationToken, device)
            : DenoiserStage.ContinueDit(from, latents, o.DitTraining, o.Seed, work, progress, cancellationToken, device));

        foreach (var (source, target) in new[] { (vae.EncoderPath, "vae_encoder.onnx"), (vae.DecoderPath, "vae_decoder.onnx"), (unet.ModelPath, "unet.onnx"), (dit.ModelPath, "dit.onnx") })
            File.Copy(source, Path.Combine(outDir, target), overwrite: true);
        ModelBundle.WriteManifest(outDir, manifest);

        var report = new PretrainReport
        {
            Bundle = outDir,
            Commit = Provenance.LibraryCommit,
            Seed = o.Seed,
            VaeTestPsnr = Math.Round(vae.TestPsnr, 3),
            ScalingFactor = vae.ScalingFactor,
            VaeLosses = vae.Losses,
            UNetLosses = unet.Losses,
            DitLosses = dit.Losses,
            StageSeconds = seconds,
            TotalSeconds = Math.Round(seconds.Values.Sum(), 1),
            Options = o,
        };
        WriteReport(outDir, report);
        foreach (var t in new[] { train, test, latents.Means, latents.Stds, latents.Labels, classContexts, nullContext }) t.Dispose();
        Stage("fidelity", () => AddFidelity(outDir, dataset, report, o.Seed, logger, cancellationToken, device));
        report = report with { StageSeconds = seconds, TotalSeconds = Math.Round(seconds.Values.Sum(), 1) };
        WriteReport(outDir, report);
        return report;
    }

    /// <summary>
    /// Measures class fidelity of every denoiser of the bundle in <paramref name="outDir"/> and records it in the report. The
    /// fidelity judge trains on <paramref name="device"/> (null: the CPU) and judges on the CPU.
    /// </summary>
    public static PretrainReport AddFidelity(string outDir, ImageDataset dataset, PretrainReport report, int seed, ILogger? logger, CancellationToken cancellationToken,
        Device? device = null)
    {
        var (classifier, denoisers) = FidelityCheck.Run(ModelBundle.Load(outDir), dataset, seed: seed, logger: logger, cancellationToken: cancellationToken,
            cacheDir: Path.Combine(outDir, WorkFolder), device: device);
        report.FidelityClassifier = classifier;
        report.Fidelity = denoisers;
        WriteReport(outDir, report);
        return report;
    }

    /// <summary>The denoiser names and kinds <see cref="Run"/> writes, which a bundle to continue from must have.</summary>
    static readonly (string Name, string Kind)[] Denoisers = [("unet", DenoiserSpec.UNetText), ("dit", DenoiserSpec.DitClass)];

    /// <summary>
    /// The bundle <see cref="PretrainOptions.From"/> names, checked to be one this pretraining could have written for
    /// <paramref name="dataset"/>: single-channel images of the options' size, the dataset's classes, a text UNet
    /// <c>unet</c> and a class DiT <c>dit</c>.
    /// </summary>
    internal static ModelBundle StartBundle(string folder, string outDir, ImageDataset dataset, PretrainOptions o)
    {
        string option = PretrainOptions.OptionName(nameof(PretrainOptions.From));
        PathsApart.Require([new("the output folder", outDir)], [new(option, folder)]);
        ModelBundle bundle;
        try { bundle = ModelBundle.Load(folder); }
        catch (UserInputException e) { throw UserInputException.ForOption(option, $"'{folder}' is not a usable bundle: {e.Message}", e); }
        var m = bundle.Manifest;
        var problems = new List<string>();
        if (m.Image.Channels != 1 || m.Image.Size != o.ImageSize)
            problems.Add($"its images are {m.Image.Channels} channel(s) of {m.Image.Size} × {m.Image.Size}, not 1 of {o.ImageSize} × {o.ImageSize}");
        if (!m.Classes.SequenceEqual(dataset.ClassNames))
            problems.Add($"its classes ({string.Join(", ", m.Classes)}) are not the dataset's ({string.Join(", ", dataset.ClassNames)})");
        // The UNet's prompts are encoded with the built-in MiniLM, as a pretrained bundle's are; a text encoder that lives in
        // the bundle's folder would not travel to the output.
        if (m.TextEncoder is not { } text || text.Model != MiniLmResources.Builtin)
            problems.Add($"its text encoder is {(m.TextEncoder is null ? "missing" : $"'{m.TextEncoder.Model}'")}, not the built-in MiniLM ('{MiniLmResources.Builtin}')");
        foreach (var (name, kind) in Denoisers)
            if (!m.Denoisers.TryGetValue(name, out var spec) || spec is null || spec.Kind != kind)
                problems.Add($"it has no {kind} denoiser named '{name}'");
        if (problems.Count > 0)
            throw UserInputException.ForOption(option, $"'{folder}' is not a bundle evlf pretrain can continue: {string.Join("; ", problems)}.");
        return bundle;
    }

    /// <summary>Where the run in a work folder started (<see cref="RecordStart"/>).</summary>
    internal const string StartFile = "start.json";

    /// <summary>
    /// Records where the run in <paramref name="work"/> starts — from scratch, or from the bundle <paramref name="from"/>
    /// by the SHA-256 of the files it continues (bundle.json, the VAE, both denoisers) — and refuses to resume checkpoints
    /// that an attempt with another start left there: they hold weights trained from that start. A work folder of an
    /// attempt made before the record existed is resumed as it is.
    /// </summary>
    internal static void RecordStart(string work, ModelBundle? from)
    {
        var start = new JsonObject { ["from"] = from is null ? null : new JsonObject(
            new[] { BundleManifest.FileName, from.Manifest.Vae.Encoder, from.Manifest.Vae.Decoder }
                .Concat(Denoisers.Select(d => from.Manifest.Denoisers[d.Name]!.File))
                .Select(file => KeyValuePair.Create(file, (JsonNode?)RunFolder.FileHash(from.PathOf(file))))) };
        string path = Path.Combine(work, StartFile), text = start.ToJsonString();
        if (File.Exists(path) && File.ReadAllText(path) is var earlier && earlier != text)
        {
            bool earlierFromBundle = JsonNode.Parse(earlier)?["from"] is not null;
            throw UserInputException.ForOption(PretrainOptions.OptionName(nameof(PretrainOptions.From)),
                (from is null ? "is not given" : $"'{from.Directory}' is given") +
                $", but the checkpoints in the output folder's {WorkFolder} were trained from {(earlierFromBundle ? "a bundle with other files" : "scratch")}: " +
                "resume them with the start they had, or choose another output folder.");
        }
        AtomicFile.Write(path, text);
    }

    /// <summary>
    /// The manifest of a bundle continued from <paramref name="from"/>: its own, named <paramref name="name"/>, with the
    /// files under the names <see cref="Run"/> writes and only the denoisers it trains.
    /// </summary>
    internal static BundleManifest ContinuedManifest(ModelBundle from, string name) => from.Manifest with
    {
        Name = name,
        Vae = from.Manifest.Vae with { Encoder = "vae_encoder.onnx", Decoder = "vae_decoder.onnx" },
        Denoisers = Denoisers.ToDictionary(d => d.Name, d => from.Manifest.Denoisers[d.Name] with { File = d.Name + ".onnx" }),
    };

    public static PretrainReport ReadReport(string outDir)
    {
        string path = Path.Combine(outDir, ReportFile);
        if (!File.Exists(path)) throw new UserInputException($"'{path}' was not found; run evlf pretrain first.");
        return JsonSerializer.Deserialize<PretrainReport>(File.ReadAllText(path))!;
    }

    public static void WriteReport(string outDir, PretrainReport report) =>
        AtomicFile.WriteJson(Path.Combine(outDir, ReportFile), report);
}
