using System.ComponentModel;
using System.Globalization;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Onnx;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf distill`: the main job. With no arguments: mgd3 + EVLF, IPC 10, Fashion-MNIST, the default bundle.</summary>
public sealed class DistillCommand : Command<DistillCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--data <SPEC>")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--bundle <DIR>")]
        [DefaultValue("models/fmnist-ldm")]
        public string Bundle { get; init; } = "models/fmnist-ldm";

        [CommandOption("--method <METHOD>")]
        [Description("random | herding | dit | d4m | mgd3")]
        [DefaultValue("mgd3")]
        public string Method { get; init; } = "mgd3";

        [CommandOption("--evlf")]
        [Description("Apply the EVLF fusion module before clustering (default for d4m and mgd3).")]
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
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
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
        [Description("D4M img2img strength (released code: 0.7).")]
        [DefaultValue(0.7)]
        public double Strength { get; init; } = 0.7;

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
        [Description("Train the fusion module on a seeded subset of N images per epoch; 0 = every image, as the released code does. The default keeps `evlf distill` within 15 minutes on 2 CPU cores.")]
        [DefaultValue(FusionTrainingFlags.DefaultSamples)]
        public int FusionSamples { get; init; } = FusionTrainingFlags.DefaultSamples;

        [CommandOption("--learn-temperature")]
        [Description("Train the InfoNCE temperature (the released optimizer keeps τ = 0.07 fixed).")]
        public bool LearnTemperature { get; init; }

        [CommandOption("--finetune-steps <N>")]
        [DefaultValue(500)]
        public int FinetuneSteps { get; init; } = 500;

        [CommandOption("--max-train <N>")]
        [Description("Use only the first N images of the training and of the test split: a quick trial (evlf bench --quick distils with 20000).")]
        public int? MaxTrain { get; init; }

        [CommandOption("--force")]
        [Description("Write into an --out (or --cache) folder that holds files evlf did not write; they are left alone, and evlf still never replaces them.")]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        public bool Quiet { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (MaxTrain is < 1) return Spectre.Console.ValidationResult.Error($"--max-train must be at least 1; got {MaxTrain}.");
            if (!Enum.TryParse<DistillMethod>(Method, true, out _) || int.TryParse(Method, out _))
                return Spectre.Console.ValidationResult.Error($"--method must be random, herding, dit, d4m or mgd3; got '{Method}'.");
            if (Evlf && NoEvlf) return Spectre.Console.ValidationResult.Error("--evlf and --no-evlf contradict each other; give one.");
            if (Ipc < 1) return Spectre.Console.ValidationResult.Error($"--ipc must be at least 1; got {Ipc}.");
            if (Steps < 1) return Spectre.Console.ValidationResult.Error($"--steps must be at least 1; got {Steps}.");
            if (Cfg is double cfg && !(cfg >= 1 && double.IsFinite(cfg))) return Spectre.Console.ValidationResult.Error($"--cfg must be a finite number of at least 1; got {Cfg}.");
            if (FusionTrainingFlags.Error(FusionEpochs, FusionSamples) is string fusionError) return Spectre.Console.ValidationResult.Error(fusionError);
            if (!(ModeLambda >= 0 && double.IsFinite(ModeLambda))) return Spectre.Console.ValidationResult.Error($"--mode-lambda must be a finite number of at least 0; got {ModeLambda}.");
            if (ModeStopT < 0) return Spectre.Console.ValidationResult.Error($"--mode-stop-t must be at least 0; got {ModeStopT}.");
            if (!(Strength > 0 && Strength <= 1)) return Spectre.Console.ValidationResult.Error($"--strength must be in (0, 1]; got {Strength}.");
            if (FinetuneSteps < 1) return Spectre.Console.ValidationResult.Error($"--finetune-steps must be at least 1; got {FinetuneSteps}.");
            if (!Enum.TryParse<ExecutionDevice>(Device, true, out _)) return Spectre.Console.ValidationResult.Error($"--device must be auto, cpu or cuda; got '{Device}'.");
            return Spectre.Console.ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var method = Enum.Parse<DistillMethod>(s.Method, true);
        if (s.Evlf && method is not (DistillMethod.D4m or DistillMethod.Mgd3))
            throw new UserInputException($"--evlf applies to d4m and mgd3 (EVLF reshapes the latents those methods cluster); method '{s.Method}' has no clustering stage.");
        var training = FusionTrainingFlags.Options(s.FusionEpochs, s.FusionSamples, s.LearnTemperature);
        var options = new DistillOptions
        {
            Data = s.Data, Bundle = s.Bundle, Method = method, Evlf = !s.NoEvlf, Finetune = s.Finetune, Ipc = s.Ipc, Seed = s.Seed,
            Out = s.Out, Cache = s.Cache, Device = Enum.Parse<ExecutionDevice>(s.Device, true), Steps = s.Steps, Cfg = s.Cfg, FusionTraining = training,
            FinetuneSteps = s.FinetuneSteps, Quiet = s.Quiet, ModeGuidanceLambda = s.ModeLambda, ModeGuidanceStopT = s.ModeStopT,
            Strength = s.Strength, FlipForModes = !s.NoFlip, DitGuidanceChannels = !s.GuideAllChannels, FusionUsesPromptTemplate = s.FusionPromptTemplate,
            MaxTrain = s.MaxTrain, Force = s.Force,
        };
        var result = new ConsoleProgress(s.Quiet).Run(r =>
            new DistillationPipeline(options, r.Log, (task, done, total, status) => r.Report(task, done, total, status)).Run(cancellationToken));
        Console.WriteLine(FormattableString.Invariant($"distilled {result.Images} images ({options.Method.ToString().ToLowerInvariant()}{(options.UsesFusion ? "+evlf" : "")}, IPC {options.Ipc}) into {result.Out} in {result.Seconds / 60:F1} min"));
        return 0;
    }
}
