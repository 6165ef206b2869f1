using System.ComponentModel;
using System.Globalization;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Sharding;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf distill`: the main job. With no arguments: mgd3 + EVLF, IPC 10, Fashion-MNIST, the default bundle.</summary>
internal sealed class DistillCommand : Command<DistillCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--data <SPEC>")]
        [Description("The dataset to distil: " + DataSpec.ValidForms + ".")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--bundle <DIR>")]
        [Description("The model bundle folder (VAE, text encoder, denoisers).")]
        [DefaultValue("models/fmnist-ldm")]
        public string Bundle { get; init; } = "models/fmnist-ldm";

        [CommandOption("--method <METHOD>")]
        [Description("random | herding | dit | d4m | mgd3 | minimax")]
        [DefaultValue("mgd3")]
        public string Method { get; init; } = "mgd3";

        [CommandOption("--preset <NAME>")]
        [Description("default | released: the options every other flag starts from. released = the released code's sampling; default adds the sampling options that measured best (docs/EVALUATION.md).")]
        [DefaultValue("default")]
        public string Preset { get; init; } = "default";

        [CommandOption("--evlf")]
        [Description("Apply the EVLF fusion module to the latents before clustering (default for d4m and mgd3) or, for minimax, before the fine-tune (off unless given).")]
        public bool Evlf { get; init; }

        [CommandOption("--no-evlf")]
        [Description("The base pipeline without EVLF.")]
        public bool NoEvlf { get; init; }

        [CommandOption("--finetune")]
        [Description("Fine-tune the denoiser on (fused) latents before sampling (paper §4.3).")]
        public bool Finetune { get; init; }

        [CommandOption("--ipc <N>")]
        [Description("Images per class.")]
        [DefaultValue(10)]
        public int Ipc { get; init; } = 10;

        [CommandOption("--seed <SEED>")]
        [Description("Seed of every random choice; the same seed gives the same images on the same machine.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Where the images and manifest.json go: a new folder, or one an earlier evlf distill wrote (a killed run resumes there).")]
        [DefaultValue("runs/distill")]
        public string Out { get; init; } = "runs/distill";

        [CommandOption("--cache <DIR>")]
        [Description("Keep stage outputs in DIR instead of OUT/.stages, so runs that differ only in method or IPC reuse the latents and the fusion module.")]
        public string? Cache { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("auto | cpu | cuda")]
        [DefaultValue("auto")]
        public string Device { get; init; } = "auto";

        [CommandOption("--steps <K>")]
        [Description("Denoising steps per sample.")]
        [DefaultValue(50)]
        public int Steps { get; init; } = 50;

        [CommandOption("--cfg <SCALE>")]
        [Description("Guidance scale (default 4 for dit/mgd3, 8 for d4m).")]
        public double? Cfg { get; init; }

        [CommandOption("--mode-lambda <L>")]
        [Description("MGD3 mode-guidance strength λ (released code: 0.1).")]
        [DefaultValue(0.1)]
        public double ModeLambda { get; init; } = 0.1;

        [CommandOption("--mode-stop-t <T>")]
        [Description("MGD3: mode guidance applies while the respaced step index t > T (released code: 25 of 50).")]
        [DefaultValue(25)]
        public int ModeStopT { get; init; } = 25;

        [CommandOption("--strength <S>")]
        [Description("img2img strength when sampling starts from latents (D4M's released code: 0.7; the default preset's real start: 0.3); 0 decodes them without denoising.")]
        public double? Strength { get; init; }

        [CommandOption("--start <FROM>")]
        [Description("noise | modes | real | real-neighbours: where sampling starts (released: modes for d4m, noise for dit and mgd3; the default preset's mgd3: real from --ipc 10 up, noise below); real = the training latents closest to the modes, noised to --strength; real-neighbours = each of a mode's --candidates from its own one of the M latents closest to the mode.")]
        public string? Start { get; init; }

        [CommandOption("--modes <KIND>")]
        [Description("centroid | closest-real | herding: keep each k-means centre (released) or the real latent closest to it, or use the latents of herding's real images instead of k-means.")]
        public string? Modes { get; init; }

        [CommandOption("--guidance-interval <LOW,HIGH>")]
        [Description("Apply classifier-free guidance only while the timestep lies in [[LOW·T, HIGH·T]] (T = training steps); e.g. 0.2,0.8. Default: every step.")]
        public string? GuidanceInterval { get; init; }

        [CommandOption("--candidates <M>")]
        [Description("Over-generation: sample M × ipc candidates per class, keep ipc chosen by --selection in the features of a ConvNet trained on the real data, after dropping those it assigns to another class.")]
        public int? Candidates { get; init; }

        [CommandOption("--selection <HOW>")]
        [Description("herding | k-center | kernel-herding | discriminative: how --candidates narrows the candidates (herding towards the class's mean real feature, k-center around it, kernel herding towards the class's real features, or herding's choice refined so the chosen images classify every class's real features best as nearest prototypes).")]
        public string? Selection { get; init; }

        [CommandOption("--one-per-mode")]
        [Description("With --candidates: keep one candidate of each mode (and so of each real start) before any mode gives a second, so the kept images cover every mode; --selection still picks which.")]
        public bool OnePerMode { get; init; }

        [CommandOption("--real-detail")]
        [Description("With real starts (--start real | real-neighbours): write each sample as its starting real image plus what sampling changed in the decoded image, so the detail the VAE loses is kept. One more decoder call per sample.")]
        public bool RealDetail { get; init; }

        [CommandOption("--no-real-detail")]
        [Description("Decode the samples as they are where the default preset would keep the real starts' detail (mgd3 from IPC 50 up).")]
        public bool NoRealDetail { get; init; }

        [CommandOption("--own-view")]
        [Description("With real starts (--start real | real-neighbours): write each sample in its real image's own orientation, mirroring back the samples whose start the modes' flip coin mirrored.")]
        public bool OwnView { get; init; }

        [CommandOption("--keep-bundle-size")]
        [Description("Write generated images at the bundle's size (32×32 for the default bundle) instead of cutting them back to the data's size where the bundle padded it.")]
        public bool KeepBundleSize { get; init; }

        [CommandOption("--through-vae")]
        [Description("random, herding: pass the chosen images through the bundle's VAE (encode, decode): the ceiling the VAE sets for generated images.")]
        public bool ThroughVae { get; init; }

        [CommandOption("--guide-all-channels")]
        [Description("DiT: apply classifier-free guidance to every ε channel (the released DiT code guides channels 0–2 only).")]
        public bool GuideAllChannels { get; init; }

        [CommandOption("--no-flip")]
        [Description("Cluster unflipped latents (the released code flips each image with probability 0.5 first).")]
        public bool NoFlip { get; init; }

        [CommandOption("--fusion-prompt-template")]
        [Description("Condition the fusion module on the bundle's prompt template instead of the raw class name (the released code's choice).")]
        public bool FusionPromptTemplate { get; init; }

        [CommandOption("--fusion-epochs <N>")]
        [Description("Epochs of EVLF fusion training (released code: 4).")]
        public int? FusionEpochs { get; init; }

        [CommandOption("--fusion-samples <N>")]
        [Description("Train the fusion module on a seeded subset of N images per epoch; 0 = every image, as the released code does. Default: 12000 with --preset default (keeps `evlf distill` within 15 minutes on 2 CPU cores), every image with --preset released.")]
        public int? FusionSamples { get; init; }

        [CommandOption("--fusion-lambda1 <L>")]
        [Description("Fusion strength: λ1, the weight of the InfoNCE term that pulls fused latents towards their class text (released code: 0.1).")]
        [DefaultValue(0.1)]
        public double FusionLambda1 { get; init; } = 0.1;

        [CommandOption("--fusion-lambda2 <L>")]
        [Description("Fusion strength: the cap of λ2, the weight of the MSE term that keeps fused latents near the originals (released code: ramped 0.05 → 1.0).")]
        [DefaultValue(1.0)]
        public double FusionLambda2 { get; init; } = 1.0;

        [CommandOption("--learn-temperature")]
        [Description("Train the InfoNCE temperature (the released optimizer keeps τ = 0.07 fixed).")]
        public bool LearnTemperature { get; init; }

        [CommandOption("--finetune-steps <N>")]
        [Description("With --finetune: denoiser fine-tune steps (released code: 500).")]
        [DefaultValue(500)]
        public int FinetuneSteps { get; init; } = 500;

        [CommandOption("--minimax-steps <N>")]
        [Description("minimax: fine-tune steps at batch 8, as released (about 4 minutes on 2 CPU cores); the EMA decay scales with them.")]
        [DefaultValue(12000)]
        public int MinimaxSteps { get; init; } = 12000;

        [CommandOption("--minimax-memory <N>")]
        [Description("minimax: rows each per-class memory keeps, of real latents and of earlier predictions (released: 64).")]
        [DefaultValue(64)]
        public int MinimaxMemory { get; init; } = 64;

        [CommandOption("--max-train <N>")]
        [Description("Use only the first N images of the training and of the test split: a quick trial (evlf bench --quick distils with 20000).")]
        public int? MaxTrain { get; init; }

        [CommandOption("--shards <N>")]
        [Description("Split the run over N processes (docs/SCALE.md). With --shard-index: run that shard's part of the first unfinished sharded stage (encoding, fusing, sampling) and exit. Without: the finishing run — merge the finished parts, run what needs all of them, and publish or stop at the next sharded stage.")]
        public int? Shards { get; init; }

        [CommandOption("--shard-index <I>")]
        [Description("This process's shard, 0 to N−1, or auto: the first of EVLF_SHARD_INDEX, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX that is set.")]
        public string? ShardIndex { get; init; }

        [CommandOption("--workers <K>")]
        [Description("With --shards N: run the whole sharded job on this machine, the shards as K processes at a time, each wave followed by the finishing run.")]
        public int? Workers { get; init; }

        [CommandOption("--force")]
        [Description("Write into an --out (or --cache) folder that holds files evlf did not write; they are left alone, and evlf still never replaces them.")]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress bars; print only the result.")]
        public bool Quiet { get; init; }

        // What the flags cannot say on their own (names, spellings); the values themselves are checked once, by the library
        // (DistillOptions.Validate), and its errors name the flag (OptionFlags).
        public override Spectre.Console.ValidationResult Validate()
        {
            if (!Enum.TryParse<DistillMethod>(Method, true, out _) || int.TryParse(Method, out _))
                return Spectre.Console.ValidationResult.Error($"--method must be random, herding, dit, d4m, mgd3 or minimax; got '{Method}'.");
            if (Evlf && NoEvlf) return Spectre.Console.ValidationResult.Error("--evlf and --no-evlf contradict each other; give one.");
            if (RealDetail && NoRealDetail) return Spectre.Console.ValidationResult.Error("--real-detail and --no-real-detail contradict each other; give one.");
            if (FusionTrainingFlags.Error(FusionSamples) is string fusionError) return Spectre.Console.ValidationResult.Error(fusionError);
            if (!Enum.TryParse<DistillPreset>(Preset, true, out _) || int.TryParse(Preset, out _))
                return Spectre.Console.ValidationResult.Error($"--preset must be default or released; got '{Preset}'.");
            if (Start is not null && ParseStart(Start) is null) return Spectre.Console.ValidationResult.Error($"--start must be noise, modes, real or real-neighbours; got '{Start}'.");
            if (Selection is not null && ParseSelection(Selection) is null) return Spectre.Console.ValidationResult.Error($"--selection must be herding, k-center, kernel-herding or discriminative; got '{Selection}'.");
            if (Modes is not null && ParseModes(Modes) is null) return Spectre.Console.ValidationResult.Error($"--modes must be centroid, closest-real or herding; got '{Modes}'.");
            if (GuidanceInterval is not null && ParseInterval(GuidanceInterval) is null)
                return Spectre.Console.ValidationResult.Error($"--guidance-interval must be LOW,HIGH with 0 ≤ LOW ≤ HIGH ≤ 1; got '{GuidanceInterval}'.");
            if (DeviceFlag.Error(Device) is string deviceError) return Spectre.Console.ValidationResult.Error(deviceError);
            if (ShardFlags.MissingCount(Shards, ShardIndex, Workers) is string shardError) return Spectre.Console.ValidationResult.Error(shardError);
            if (Workers is not null && ShardIndex is not null) return Spectre.Console.ValidationResult.Error("--workers runs every shard itself; give it without --shard-index.");
            if (Workers is < 1) return Spectre.Console.ValidationResult.Error($"--workers must be at least 1; got {Workers}.");
            return Spectre.Console.ValidationResult.Success();
        }
    }

    static SampleStart? ParseStart(string value) => value.ToLowerInvariant() switch
    {
        "noise" => SampleStart.Noise,
        "modes" => SampleStart.Modes,
        "real" => SampleStart.Real,
        "real-neighbours" => SampleStart.RealNeighbours,
        _ => null,
    };

    static ModeKind? ParseModes(string value) => value.ToLowerInvariant() switch
    {
        "centroid" => ModeKind.Centroid,
        "closest-real" => ModeKind.ClosestReal,
        "herding" => ModeKind.Herding,
        _ => null,
    };

    static CandidateSelection? ParseSelection(string value) => value.ToLowerInvariant() switch
    {
        "herding" => CandidateSelection.Herding,
        "k-center" => CandidateSelection.KCenter,
        "kernel-herding" => CandidateSelection.KernelHerding,
        "discriminative" => CandidateSelection.Discriminative,
        _ => null,
    };

    static GuidanceInterval? ParseInterval(string value)
    {
        var parts = value.Split(',');
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double low)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double high)
            || !(low >= 0 && low <= high && high <= 1))
            return null;
        return new GuidanceInterval(low, high);
    }

    /// <summary>The library options of a distill command line (what `evlf cluster` also reads to count a run's waves).</summary>
    internal static DistillOptions Options(Settings s)
    {
        var method = Enum.Parse<DistillMethod>(s.Method, true);
        if (s.Evlf && method is not (DistillMethod.D4m or DistillMethod.Mgd3 or DistillMethod.Minimax))
            throw new UserInputException($"--evlf applies to d4m, mgd3 and minimax (EVLF reshapes the latents those methods cluster or train on); method '{s.Method}' has no such stage.");
        // Flags left out keep the preset's value; the preset's sampling options apply to the generative methods only.
        var preset = DistillOptions.For(method, Enum.Parse<DistillPreset>(s.Preset, true), s.Ipc);
        var start = s.Start is null ? preset.Start : ParseStart(s.Start);
        // The preset's real detail goes with its real starts: a start given instead (--start noise) drops it.
        bool realDetail = s.RealDetail || (preset.RealDetail && !s.NoRealDetail && start is SampleStart.Real or SampleStart.RealNeighbours);
        var training = FusionTrainingFlags.Options(preset.FusionTraining, s.FusionEpochs, s.FusionSamples, s.LearnTemperature, s.FusionLambda1, s.FusionLambda2);
        return preset with
        {
            // minimax runs EVLF only when asked (--evlf); d4m and mgd3 unless told not to (--no-evlf).
            Data = s.Data, Bundle = s.Bundle, Method = method, Evlf = method == DistillMethod.Minimax ? s.Evlf : !s.NoEvlf, Finetune = s.Finetune, Ipc = s.Ipc, Seed = s.Seed,
            Out = s.Out, Cache = s.Cache, Device = DeviceFlag.Read(s.Device), Steps = s.Steps, Cfg = s.Cfg ?? preset.Cfg, FusionTraining = training,
            FinetuneSteps = s.FinetuneSteps, Quiet = s.Quiet, ModeGuidanceLambda = s.ModeLambda, ModeGuidanceStopT = s.ModeStopT,
            Strength = s.Strength ?? preset.Strength, FlipForModes = !s.NoFlip, DitGuidanceChannels = !s.GuideAllChannels, FusionUsesPromptTemplate = s.FusionPromptTemplate,
            MaxTrain = s.MaxTrain, Force = s.Force, Start = start,
            Modes = s.Modes is null ? preset.Modes : ParseModes(s.Modes)!.Value,
            GuidanceInterval = s.GuidanceInterval is null ? preset.GuidanceInterval : ParseInterval(s.GuidanceInterval), ThroughVae = s.ThroughVae,
            KeepBundleSize = s.KeepBundleSize, RealDetail = realDetail, OwnView = s.OwnView, Candidates = s.Candidates ?? preset.Candidates,
            Selection = s.Selection is null ? preset.Selection : ParseSelection(s.Selection)!.Value, OnePerMode = s.OnePerMode || preset.OnePerMode,
            Minimax = preset.Minimax with { Steps = s.MinimaxSteps, MemorySize = s.MinimaxMemory },
            Shards = s.Shards is int shards ? new ShardSpec(shards, s.ShardIndex is null ? null : ShardSpec.ResolveIndex(s.ShardIndex)) : null,
        };
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var options = Options(s);
        if (s.Workers is int workers)
            return LocalShards.Run(context.Arguments, options.Shards!.Count, workers, () => Distill(options, s.Quiet, cancellationToken), cancellationToken);
        var result = Distill(options, s.Quiet, cancellationToken);
        if (result.Waiting is { } wait)
        {
            Console.WriteLine(wait.Message);
            // The finishing run between waves exits 0 (the next wave's shards start after it); one that finds some of a
            // wave's shards finished and others not says so with its own code.
            return options.Shards!.IsShard || wait.Finished.Count == 0 ? 0 : LocalShards.WaitingForShards;
        }
        Console.WriteLine(FormattableString.Invariant($"distilled {result.Images} images ({options.Method.ToString().ToLowerInvariant()}{(options.UsesFusion ? "+evlf" : "")}, IPC {options.Ipc}) into {result.Out} in {result.Seconds / 60:F1} min"));
        return 0;
    }

    static DistillResult Distill(DistillOptions options, bool quiet, CancellationToken cancellationToken) =>
        new ConsoleProgress(quiet).Run(r => new DistillationPipeline(options, r, r).Run(cancellationToken));
}
