using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace Evlf.Cli.Commands;

/// <summary>`evlf sample --bundle DIR --denoiser unet|dit --class NAME|all --n N --cfg S --steps K --seed S --out DIR`</summary>
internal sealed class SampleCommand : Command<SampleCommand.Settings>
{

    public sealed class Settings : CommandSettings
    {
        [CommandOption("--bundle <DIR>")]
        [Description("The model bundle folder.")]
        [DefaultValue("models/fmnist-ldm")]
        public string Bundle { get; init; } = "models/fmnist-ldm";

        [CommandOption("--denoiser <NAME>")]
        [Description("A denoiser of the bundle (the default bundle has unet and dit).")]
        [DefaultValue("dit")]
        public string Denoiser { get; init; } = "dit";

        [CommandOption("--class <NAME>")]
        [Description("A class name, or all.")]
        [DefaultValue("all")]
        public string Class { get; init; } = "all";

        [CommandOption("-n|--count <N>")]
        [Description("Images per class (also accepted as --n).")]
        [DefaultValue(10)]
        public int N { get; init; } = 10;

        [CommandOption("--cfg <SCALE>")]
        [Description("Classifier-free guidance scale (1 = no guidance).")]
        [DefaultValue(4.0)]
        public double Cfg { get; init; } = 4.0;

        [CommandOption("--guide-all-channels")]
        [Description("DiT: apply classifier-free guidance to every ε channel (the released DiT code guides channels 0–2 only).")]
        public bool GuideAllChannels { get; init; }

        [CommandOption("--steps <K>")]
        [Description("Denoising steps per sample.")]
        [DefaultValue(50)]
        public int Steps { get; init; } = 50;

        [CommandOption("--seed <SEED>")]
        [Description("Seed of the starting noise.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Where the PNGs go: a new folder or one evlf sample wrote.")]
        [DefaultValue("samples")]
        public string Out { get; init; } = "samples";

        [CommandOption("--device <DEVICE>")]
        [Description("auto | cpu | cuda")]
        [DefaultValue("auto")]
        public string Device { get; init; } = "auto";

        [CommandOption("--force")]
        [Description("Write into an --out folder that holds files evlf did not write (they are left alone; evlf still never replaces them).")]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress bars; print only the result.")]
        public bool Quiet { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (N < 1) return Spectre.Console.ValidationResult.Error($"--n must be at least 1; got {N}.");
            if (Steps < 1) return Spectre.Console.ValidationResult.Error($"--steps must be at least 1; got {Steps}.");
            if (!(Cfg >= 1 && double.IsFinite(Cfg))) return Spectre.Console.ValidationResult.Error($"--cfg must be a finite number of at least 1 (1 = no guidance); got {Cfg}.");
            if (DeviceFlag.Error(Device) is string deviceError) return Spectre.Console.ValidationResult.Error(deviceError);
            return Spectre.Console.ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var device = DeviceFlag.Read(s.Device);
        OnnxSession.RequireDevice(device);
        var bundle = ModelBundle.Load(s.Bundle);
        var m = bundle.Manifest;
        bundle.Denoiser(s.Denoiser);
        int[] classes = s.Class == "all" ? Enumerable.Range(0, m.Classes.Count).ToArray()
            : m.Classes.IndexOf(s.Class) is int i and >= 0 ? new[] { i }
            : throw new UserInputException($"Class '{s.Class}' is not in bundle '{s.Bundle}'; its classes are: {string.Join(", ", m.Classes)}.");
        var options = new SampleOptions(s.Steps, s.Cfg, DitGuidanceChannels: !s.GuideAllChannels);
        BundleRuntime.CheckSampling(bundle, s.Denoiser, options);
        PathsApart.Require([new("--out", s.Out)], [new("--bundle", bundle.Directory)]);

        var clock = Stopwatch.StartNew();
        using var output = OutputFolder.Open(s.Out, "sample", s.Force, option: "--out", forceOption: "--force");
        using var runtime = new BundleRuntime(bundle, new SessionSettings(device) { Logger = ConsoleProgress.Log(s.Quiet) });
        string staging = output.Staging("sample");
        try
        {
            string setDir = Path.Combine(staging, "set");
            using (var writer = SyntheticSetWriter.Create(setDir, m.Classes, m.Image.Channels))
            {
                new ConsoleProgress(s.Quiet).Run(r =>
                {
                    foreach (int c in classes)
                        foreach (var image in runtime.GenerateEach(s.Denoiser, c, s.N, options, s.Seed, r, cancellationToken))
                            writer.Add(c, image);
                });
                writer.Commit(new JsonObject
                {
                    ["command"] = "sample",
                    ["bundle"] = bundle.Directory,
                    ["denoiser"] = s.Denoiser,
                    ["classes"] = new JsonArray(classes.Select(c => (JsonNode)m.Classes[c]).ToArray()),
                    ["n"] = s.N,
                    ["cfg"] = s.Cfg,
                    ["steps"] = s.Steps,
                    ["seed"] = s.Seed,
                    ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
                });
            }
            SyntheticSetWriter.Publish(setDir, output, move: true);
        }
        finally
        {
            OutputFolder.TryDelete(staging);
        }
        Console.WriteLine($"wrote {classes.Length * s.N} images to {s.Out}");
        return 0;
    }
}
