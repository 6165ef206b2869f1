using System.ComponentModel;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Onnx;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>
/// `evlf train-fusion`: trains the EVLF fusion module and projector on a dataset's VAE latents and its class text
/// (the latents, text and fusion stages of `evlf distill`, with the same keys), and writes fusion.onnx,
/// projector.onnx, fusion-log.json, fusion-test.json and manifest.json to OUT.
/// </summary>
internal sealed class TrainFusionCommand : Command<TrainFusionCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--data <SPEC>")]
        [Description("The dataset whose images and class names train the module: " + DataSpec.ValidForms + ".")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--bundle <DIR>")]
        [Description("Bundle whose VAE encoder makes the latents and whose text encoder embeds the class names.")]
        [DefaultValue("models/fmnist-ldm")]
        public string Bundle { get; init; } = "models/fmnist-ldm";

        [CommandOption("--seed <SEED>")]
        [Description("Seed of every random choice in training.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Where the trained fusion module goes: a new folder, or one an earlier run wrote (a killed run resumes there).")]
        [DefaultValue("runs/fusion")]
        public string Out { get; init; } = "runs/fusion";

        [CommandOption("--cache <DIR>")]
        [Description("Keep stage outputs in DIR instead of OUT/.stages (a distill run with the same --cache, data, bundle, seed and fusion options then reuses this module).")]
        public string? Cache { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("auto | cpu | cuda (ONNX Runtime stages: encoding, the test-split check).")]
        [DefaultValue("auto")]
        public string Device { get; init; } = "auto";

        [CommandOption("--fusion-epochs <N>")]
        [Description("Epochs of fusion training (released code: 4).")]
        public int? FusionEpochs { get; init; }

        [CommandOption("--fusion-samples <N>")]
        [Description("A seeded subset of N images per epoch; 0 = every image, as the released code does. Default: evlf distill's, 12000.")]
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

        [CommandOption("--fusion-prompt-template")]
        [Description("Condition on the bundle's prompt template instead of the raw class name (the released code's choice).")]
        public bool FusionPromptTemplate { get; init; }

        [CommandOption("--force")]
        [Description("Write into an --out (or --cache) folder that holds files evlf did not write; they are left alone, and evlf still never replaces them.")]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress bars; print only the result.")]
        public bool Quiet { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (FusionTrainingFlags.Error(FusionSamples) is string fusionError) return Spectre.Console.ValidationResult.Error(fusionError);
            if (DeviceFlag.Error(Device) is string deviceError) return Spectre.Console.ValidationResult.Error(deviceError);
            return Spectre.Console.ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var training = FusionTrainingFlags.Options(DistillOptions.Default.FusionTraining, s.FusionEpochs, s.FusionSamples, s.LearnTemperature, s.FusionLambda1, s.FusionLambda2);
        var options = DistillOptions.Default with
        {
            Data = s.Data, Bundle = s.Bundle, Method = DistillMethod.Mgd3, Evlf = true, Seed = s.Seed, Out = s.Out, Cache = s.Cache,
            Device = DeviceFlag.Read(s.Device), FusionTraining = training, Quiet = s.Quiet,
            FusionUsesPromptTemplate = s.FusionPromptTemplate, Force = s.Force,
        };
        var result = new ConsoleProgress(s.Quiet).Run(r =>
            new DistillationPipeline(options, r, r).TrainFusionModule(cancellationToken));
        var test = result.Manifest["fusion"]?["test"];
        Console.WriteLine(FormattableString.Invariant(
            $"trained the fusion module into {result.Out} in {result.Seconds / 60:F1} min; test split: MSE ratio {Number(test?["MseRatio"]):G3}, InfoNCE top-1 {100 * Number(test?["Top1"]):F1}%"));
        return 0;
    }

    static double Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN;
}
