using System.ComponentModel;
using System.Globalization;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Pretraining;
using Evlf.OnnxHybrid.Training;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf pretrain --data fashion-mnist --out models/fmnist-ldm`: trains the default bundle.</summary>
internal sealed class PretrainCommand : Command<PretrainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--data <SPEC>")]
        [Description("The dataset the bundle learns: " + DataSpec.ValidForms + ".")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--out <DIR>")]
        [Description("The bundle folder to write: a new folder or one evlf pretrain wrote.")]
        [DefaultValue("models/fmnist-ldm")]
        public string Out { get; init; } = "models/fmnist-ldm";

        [CommandOption("--seed <SEED>")]
        [Description("Seed of every random choice in training.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--vae-epochs <N>")]
        [Description("VAE training epochs (default 3).")]
        public int? VaeEpochs { get; init; }

        [CommandOption("--unet-steps <N>")]
        [Description("Text UNet training steps (default 2000).")]
        public int? UNetSteps { get; init; }

        [CommandOption("--dit-steps <N>")]
        [Description("DiT training steps (default 8000, as the committed bundle's first run).")]
        public int? DitSteps { get; init; }

        [CommandOption("--dit-lr <RATE>")]
        [Description("DiT learning rate (AdamW; default 3e-4; the committed bundle's DiT continued at 1e-4).")]
        public double? DitLearningRate { get; init; }

        [CommandOption("--from <BUNDLE>")]
        [Description("Continue a bundle evlf pretrain wrote: keep its VAE's encoder (and its decoder unless --vae-decoder-steps), and train its UNet and DiT further from their weights for --unet-steps and --dit-steps (0 copies one unchanged).")]
        public string? From { get; init; }

        [CommandOption("--vae-decoder-steps <N>")]
        [Description("With --from: train the kept VAE's decoder this many steps further on the frozen encoder's latents (batch 64, Adam from 5e-4 on a cosine; default 0 keeps it).")]
        public int? VaeDecoderSteps { get; init; }

        [CommandOption("--fidelity-only")]
        [Description("Only (re)measure class fidelity of the bundle already in --out and update its pretrain-report.json.")]
        public bool FidelityOnly { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("Where the VAE, the denoisers and the fidelity judge train: auto (CUDA when TorchSharp's libtorch has it, else the CPU) | cpu | cuda.")]
        [DefaultValue("auto")]
        public string Device { get; init; } = "auto";

        [CommandOption("--force")]
        [Description("Write into an --out folder that holds files evlf did not write; they are left alone, and evlf still never replaces them.")]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress bars; print only the result.")]
        public bool Quiet { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (VaeEpochs is < 1) return Spectre.Console.ValidationResult.Error($"--vae-epochs must be at least 1; got {VaeEpochs}.");
            // Continuing a bundle may leave a denoiser as it is (0 steps); training from scratch needs steps.
            int leastSteps = From is null ? 1 : 0;
            if (UNetSteps < leastSteps) return Spectre.Console.ValidationResult.Error($"--unet-steps must be at least {leastSteps}{(From is null ? " (0 only with --from)" : "")}; got {UNetSteps}.");
            if (DitSteps < leastSteps) return Spectre.Console.ValidationResult.Error($"--dit-steps must be at least {leastSteps}{(From is null ? " (0 only with --from)" : "")}; got {DitSteps}.");
            if (DitLearningRate is double lr && !(lr > 0 && lr < 1))
                return Spectre.Console.ValidationResult.Error($"--dit-lr must be a number in (0, 1); got {lr.ToString(CultureInfo.InvariantCulture)}.");
            if (From is not null && VaeEpochs is not null)
                return Spectre.Console.ValidationResult.Error("--vae-epochs cannot be used with --from: a continued bundle keeps its VAE (--vae-decoder-steps trains its decoder further).");
            if (VaeDecoderSteps is < 0) return Spectre.Console.ValidationResult.Error($"--vae-decoder-steps must be at least 0; got {VaeDecoderSteps}.");
            if (From is null && VaeDecoderSteps is not null)
                return Spectre.Console.ValidationResult.Error("--vae-decoder-steps needs --from: a run from scratch trains the whole VAE (--vae-epochs).");
            if (From is not null && FidelityOnly)
                return Spectre.Console.ValidationResult.Error("--from cannot be used with --fidelity-only: that measures the bundle already in --out.");
            if (DeviceFlag.Error(Device) is string deviceError) return Spectre.Console.ValidationResult.Error(deviceError);
            return Spectre.Console.ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var device = DeviceFlag.Read(s.Device);
        // cuda that cannot be had is refused before the dataset is read or the folder claimed, not after an hour.
        ComputeDevice.RequireAvailable(device, PretrainOptions.OptionName(nameof(PretrainOptions.Device)));
        PathsApart.Require([new("--out", s.Out)], s.From is null
            ? [new("--data", PathsApart.DataFolder(s.Data))]
            : [new("--data", PathsApart.DataFolder(s.Data)), new("--from", s.From)]);
        var dataset = DataSpec.Open(s.Data, logger: ConsoleProgress.Log(s.Quiet));
        if (dataset.Channels != 1)
            throw new UserInputException($"pretrain builds a single-channel bundle; dataset '{s.Data}' has {dataset.Channels} channels.");
        using var output = OutputFolder.Open(s.Out, "pretrain", s.Force, option: "--out", legacy: Pretrainer.LegacyOutput, forceOption: "--force");
        foreach (var entry in Pretrainer.OutputEntries) output.Reserve(entry); // refused now, not after an hour of training
        if (s.FidelityOnly)
        {
            var existing = Pretrainer.ReadReport(s.Out);
            var judgeDevice = ComputeDevice.Resolve(device, ConsoleProgress.Log(s.Quiet), PretrainOptions.OptionName(nameof(PretrainOptions.Device)));
            var updated = new ConsoleProgress(s.Quiet).Run(r => Pretrainer.AddFidelity(s.Out, dataset, existing, s.Seed, r, cancellationToken, judgeDevice));
            foreach (var f in updated.Fidelity!)
                Console.WriteLine(FormattableString.Invariant($"fidelity {f.Denoiser}: {f.Accuracy:F2}% (classifier {updated.FidelityClassifier!.TestAccuracy:F2}% on the test split)"));
            return 0;
        }
        var d = new PretrainOptions { Seed = s.Seed, Device = device, From = s.From };
        d = d with
        {
            VaeTraining = s.VaeEpochs is int e ? d.VaeTraining with { Epochs = e } : d.VaeTraining,
            VaeDecoder = s.VaeDecoderSteps is int v ? d.VaeDecoder with { Steps = v } : d.VaeDecoder,
            UNetTraining = s.UNetSteps is int u ? d.UNetTraining with { Steps = u } : d.UNetTraining,
            DitTraining = (s.DitSteps is int t ? d.DitTraining with { Steps = t } : d.DitTraining) is var dit && s.DitLearningRate is double lr
                ? dit with { LearningRate = lr } : dit,
        };
        var report = new ConsoleProgress(s.Quiet).Run(r => Pretrainer.Run(dataset, s.Out, d, r, r, cancellationToken));
        Console.WriteLine(FormattableString.Invariant($"bundle written to {s.Out}: VAE test PSNR {report.VaeTestPsnr:F2} dB, {report.TotalSeconds / 60:F1} min"));
        return 0;
    }
}
