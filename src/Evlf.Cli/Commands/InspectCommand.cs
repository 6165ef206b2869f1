using System.ComponentModel;
using System.Globalization;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace Evlf.Cli.Commands;

/// <summary>
/// `evlf inspect MODEL.onnx [--parity] [--train-check] [--dim NAME=VALUE]...` describes an ONNX model;
/// `evlf inspect BUNDLE_DIR [--parity]` describes a bundle, lists its problems, and with --parity checks every ONNX
/// component (ONNX Runtime vs the importer; ONNX Runtime vs PyTorch where tools/export left reference outputs);
/// `evlf inspect --data SPEC [--skip-bad]` decodes every sample of a dataset once and reports its splits.
/// </summary>
internal sealed class InspectCommand : Command<InspectCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[PATH]")]
        [Description("An .onnx file, or a bundle folder (with bundle.json).")]
        public string? Path { get; init; }

        [CommandOption("--data <SPEC>")]
        [Description("Inspect a dataset instead: fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, folder:DIR, imagenet:DIR:nette|woof|idc.")]
        public string? Data { get; init; }

        [CommandOption("--skip-bad")]
        [Description("With --data: skip samples that cannot be decoded and report how many, instead of stopping at the first.")]
        public bool SkipBad { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress bars.")]
        public bool Quiet { get; init; }

        [CommandOption("--parity")]
        [Description("Run ONNX Runtime and the TorchSharp importer on the same seeded random inputs; print max_abs_diff per output. For a bundle folder: every ONNX component, at the bundle's sizes, plus ONNX Runtime vs the PyTorch outputs in reference/ when tools/export wrote them.")]
        public bool Parity { get; init; }

        [CommandOption("--tolerance <T>")]
        [Description("--parity fails (exit code 1) when an output's max_abs_diff exceeds T × max(1, max_abs_value): absolute below magnitude 1, relative above.")]
        [DefaultValue(1e-4)]
        public double Tolerance { get; init; } = 1e-4;

        [CommandOption("--train-check")]
        [Description("Make every float initializer trainable, run 50 Adam steps (lr 1e-3) fitting every float output to a fixed random target (see --target); print loss_before and loss_after.")]
        public bool TrainCheck { get; init; }

        [CommandOption("--target <KIND>")]
        [Description("--train-check's target: outputs (the graph's outputs for a second seeded random input draw) or noise (N(0,1) per element, which convolutional decoders cannot fit in 50 steps).")]
        [DefaultValue("outputs")]
        public string Target { get; init; } = "outputs";

        [CommandOption("--dim <NAME=VALUE>")]
        [Description("Size of a dynamic dimension for the random inputs (repeatable). Unnamed first dimensions use --batch, others 8.")]
        public string[] Dims { get; init; } = Array.Empty<string>();

        [CommandOption("--batch <N>")]
        [Description("Batch size of the random inputs.")]
        [DefaultValue(2)]
        public int Batch { get; init; } = 2;

        [CommandOption("--seed <SEED>")]
        [Description("Seed of the random inputs (and of --train-check).")]
        [DefaultValue(0L)]
        public long Seed { get; init; }

        [CommandOption("--steps <N>")]
        [Description("Adam steps for --train-check.")]
        [DefaultValue(50)]
        public int Steps { get; init; } = 50;

        public override ValidationResult Validate()
        {
            if (Data is null && string.IsNullOrEmpty(Path)) return ValidationResult.Error("inspect needs an .onnx file or --data SPEC.");
            if (Data is not null && !string.IsNullOrEmpty(Path)) return ValidationResult.Error("inspect takes either an .onnx file or --data SPEC, not both.");
            if (Data is null && SkipBad) return ValidationResult.Error("--skip-bad applies only with --data.");
            if (TrainCheck && Path is not null && Directory.Exists(Path)) return ValidationResult.Error("--train-check applies to an .onnx file, not a bundle folder.");
            if (Batch < 1) return ValidationResult.Error($"--batch must be at least 1; got {Batch}.");
            if (Steps < 1) return ValidationResult.Error($"--steps must be at least 1; got {Steps}.");
            if (Target is not ("outputs" or "noise")) return ValidationResult.Error($"--target must be outputs or noise; got '{Target}'.");
            if (!(Tolerance > 0)) return ValidationResult.Error($"--tolerance must be a positive number; got {Tolerance}.");
            foreach (var d in Dims)
                if (!TryParseDim(d, out _, out _))
                    return ValidationResult.Error($"--dim expects NAME=VALUE with a positive integer VALUE; got '{d}'.");
            return ValidationResult.Success();
        }
    }

    static bool TryParseDim(string text, out string name, out long value)
    {
        var parts = text.Split('=', 2);
        name = parts[0].Trim();
        value = 0;
        return parts.Length == 2 && name.Length > 0 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value > 0;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Data is not null) return InspectData(settings, cancellationToken);
        string path = settings.Path!;
        if (Directory.Exists(path) && !File.Exists(path))
        {
            if (!File.Exists(System.IO.Path.Combine(path, BundleManifest.FileName)))
                throw new UserInputException($"'{path}' is a folder without {BundleManifest.FileName}; expected an .onnx file or a bundle folder.");
            return InspectBundle(path, settings);
        }
        var model = OnnxModel.Load(path);
        Describe(model);

        if (!settings.Parity && !settings.TrainCheck) return 0;
        var dims = ParseDims(settings);
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, settings.Seed, settings.Batch, dims);
        AnsiConsole.MarkupLineInterpolated($"[grey]random inputs (seed {settings.Seed}):[/] {RandomInputs.Describe(inputs)}");

        var verdict = new ParityVerdict(settings.Tolerance);
        if (settings.Parity)
        {
            foreach (var d in ParityCheck.Run(model, inputs))
                Console.WriteLine(DiffLine("", "max_abs_diff", d, verdict));
            Console.WriteLine(verdict.Summary("importer vs ONNX Runtime"));
        }
        if (settings.TrainCheck)
        {
            var target = settings.Target == "noise" ? TrainCheckTarget.Noise : TrainCheckTarget.Outputs;
            var targetInputs = target == TrainCheckTarget.Outputs ? RandomInputs.For(model, Seeds.TrainCheckTargetInputs(settings.Seed), settings.Batch, dims) : null;
            var r = OnnxHybrid.Onnx.TrainCheck.Run(model, inputs, settings.Seed, settings.Steps, target: target, targetInputs: targetInputs);
            string fitted = target == TrainCheckTarget.Noise ? "N(0,1) noise" : $"the outputs for random inputs of seed {Seeds.TrainCheckTargetInputs(settings.Seed)}";
            Console.WriteLine(FormattableString.Invariant($"trainable: {r.TrainableTensors} tensors, {r.TrainableValues} values; {settings.Steps} Adam steps, lr 1e-3, fitting {fitted}"));
            Console.WriteLine(FormattableString.Invariant($"loss_before: {r.LossBefore:G6}"));
            Console.WriteLine(FormattableString.Invariant($"loss_after: {r.LossAfter:G6}"));
        }
        return verdict.Failed ? 1 : 0;
    }

    static Dictionary<string, long> ParseDims(Settings settings) =>
        settings.Dims.Select(d => { TryParseDim(d, out var n, out var v); return (n, v); }).ToDictionary(p => p.n, p => p.v);

    static int InspectBundle(string directory, Settings options)
    {
        var (bundle, problems) = ModelBundle.Check(directory, new SessionSettings(ExecutionDevice.Cpu));
        if (bundle is not null)
        {
            var m = bundle.Manifest;
            Console.WriteLine($"bundle: {m.Name} ({bundle.Directory})");
            Console.WriteLine(FormattableString.Invariant($"image: {m.Image.Channels}x{m.Image.Size}x{m.Image.Size} in [{m.Image.Range[0]}, {m.Image.Range[1]}]; latent: {m.Latent.Channels}x{m.Latent.Size}x{m.Latent.Size}, scaling factor {m.Latent.ScalingFactor:G6}"));
            var components = new Table().AddColumns("component", "file", "signature");
            void Add(string name, string file, Func<OnnxSession> open)
            {
                string signature;
                try
                {
                    using var s = open();
                    signature = string.Join("  ", s.Inputs.Select(i => "in " + i)) + "  ->  " + string.Join("  ", s.Outputs.Select(o => "out " + o));
                }
                catch (UserInputException) { signature = "(see problems)"; }
                components.AddRow(Row(name, file, signature));
            }
            var settings = new SessionSettings(ExecutionDevice.Cpu);
            Add("vae encoder", m.Vae.Encoder, () => bundle.OpenVaeEncoder(settings));
            Add("vae decoder", m.Vae.Decoder, () => bundle.OpenVaeDecoder(settings));
            foreach (var (name, d) in m.Denoisers)
            {
                Add($"{name} ({d.Kind})", d.File, () => bundle.OpenDenoiser(name, settings));
                Console.WriteLine(FormattableString.Invariant($"{name}: {d.Kind}, schedule {d.Schedule.Kind} beta {d.Schedule.BetaStart:G4}..{d.Schedule.BetaEnd:G4} over {d.Schedule.Steps} steps{(d.LearnedSigma ? ", learned sigma" : "")}{(d.NullClass is int nc ? $", null class {nc}" : "")}"));
            }
            AnsiConsole.Write(components);
            if (m.TextEncoder is { } te)
                Console.WriteLine($"text encoder: {te.Model}, tokenizer {te.Tokenizer.Kind} (max length {te.Tokenizer.MaxLength}), pooling {te.Pooling}");
            Console.WriteLine($"classes ({m.Classes.Count}): {string.Join(", ", m.Classes)}");
            Console.WriteLine($"prompt: \"{m.Prompt(0)}\" ...");
        }
        if (problems.Count == 0)
        {
            Console.WriteLine("no problems found");
            return options.Parity && !CheckBundleParity(bundle!, options) ? 1 : 0;
        }
        Console.WriteLine($"problems ({problems.Count}):");
        foreach (var p in problems) Console.WriteLine($"  - {p}");
        throw ModelBundle.Fail(directory, problems);
    }

    /// <summary>`evlf inspect BUNDLE --parity` (<see cref="BundleParity"/>): one line per output, then each check's verdict.</summary>
    static bool CheckBundleParity(ModelBundle bundle, Settings settings)
    {
        var verdict = new ParityVerdict(settings.Tolerance);
        foreach (var entry in BundleParity.ImporterVsOnnxRuntime(bundle, settings.Seed, settings.Batch, ParseDims(settings)))
        {
            if (entry is ParityInputs inputs)
                AnsiConsole.MarkupLineInterpolated($"[grey]{inputs.Component}: random inputs (seed {settings.Seed}): {inputs.Described}[/]");
            else if (entry is ParityOutput output)
                Console.WriteLine(DiffLine(output.Component + ": ", "max_abs_diff", output.Diff, verdict));
        }
        Console.WriteLine(FormattableString.Invariant($"importer vs ONNX Runtime: {verdict.Checked} outputs, worst {verdict.Worst:E3}"));
        Console.WriteLine(verdict.Summary("importer vs ONNX Runtime"));
        if (!BundleParity.HasPyTorchReference(bundle)) return !verdict.Failed;

        var pytorch = new ParityVerdict(settings.Tolerance);
        foreach (var output in BundleParity.OnnxRuntimeVsPyTorch(bundle))
            Console.WriteLine(DiffLine(output.Component + ": ", "pytorch_max_abs_diff", output.Diff, pytorch));
        Console.WriteLine(FormattableString.Invariant($"ONNX Runtime vs PyTorch (reference/): {pytorch.Checked} outputs, worst {pytorch.Worst:E3}"));
        Console.WriteLine(pytorch.Summary("ONNX Runtime vs PyTorch"));
        return !verdict.Failed && !pytorch.Failed;
    }

    /// <summary>"PREFIXKIND: DIFF  output=NAME shape=[…] max_abs_value=SCALE", marked FAIL when <paramref name="verdict"/> rejects it.</summary>
    static string DiffLine(string prefix, string kind, ParityCheck.OutputDiff d, ParityVerdict verdict) =>
        FormattableString.Invariant($"{prefix}{kind}: {d.MaxAbsDiff:E3}  output={d.Name} shape=[{string.Join(",", d.Shape)}] max_abs_value={d.MaxAbsValue:G4}{verdict.Mark(d.MaxAbsDiff, d.MaxAbsValue)}");

    static int InspectData(Settings settings, CancellationToken cancellationToken)
    {
        var dataset = DataSpec.Open(settings.Data!, logger: ConsoleProgress.Log(settings.Quiet));
        DatasetReport report = null!;
        if (settings.Quiet || !AnsiConsole.Profile.Capabilities.Interactive)
            report = DatasetInspector.Inspect(dataset, settings.SkipBad, null, cancellationToken);
        else
            AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    var progress = new InlineProgress<WorkProgress>(p =>
                    {
                        if (!tasks.TryGetValue(p.Task, out var task)) tasks[p.Task] = task = ctx.AddTask(Markup.Escape(p.Task), maxValue: Math.Max(p.Total, 1));
                        task.Value = p.Done;
                    });
                    report = DatasetInspector.Inspect(dataset, settings.SkipBad, progress, cancellationToken);
                });

        Console.WriteLine($"dataset: {report.Dataset} ({report.ClassNames.Count} classes, {report.Channels} channel(s))");
        var table = new Table().AddColumns("class", "train", "test");
        for (int c = 0; c < report.ClassNames.Count; c++)
            table.AddRow(Row($"{c}: {report.ClassNames[c]}", report.Train.PerClass[c].ToString(CultureInfo.InvariantCulture), report.Test.PerClass[c].ToString(CultureInfo.InvariantCulture)));
        AnsiConsole.Write(table);
        foreach (var split in new[] { report.Train, report.Test })
        {
            Console.WriteLine(FormattableString.Invariant($"{split.Split}: {split.Decoded} samples decoded of {split.Total}, {split.Skipped} skipped; sizes {split.MinWidth}-{split.MaxWidth} x {split.MinHeight}-{split.MaxHeight}"));
            foreach (var bad in split.Bad.Take(20)) Console.WriteLine($"  skipped: {bad.Problem}");
            if (split.Bad.Count > 20) Console.WriteLine($"  ... and {split.Bad.Count - 20} more");
        }
        return 0;
    }

    static void Describe(OnnxModel model)
    {
        var g = model.Graph;
        var initializers = g.Initializer.Select(t => t.Name).ToHashSet();
        AnsiConsole.MarkupLineInterpolated($"[bold]{model.Path}[/]  opset {model.Opset}, IR {model.Proto.IrVersion}, producer {model.Proto.ProducerName} {model.Proto.ProducerVersion}");
        var io = new Table().AddColumns("", "name", "type", "shape");
        foreach (var i in g.Input.Where(i => !initializers.Contains(i.Name))) io.AddRow(Row("input", i.Name, TypeOf(i), ShapeOf(i)));
        foreach (var o in g.Output) io.AddRow(Row("output", o.Name, TypeOf(o), ShapeOf(o)));
        AnsiConsole.Write(io);

        long parameters = g.Initializer.Sum(OnnxTensor.ElementCount);
        // Strings and exotic types have no fixed element size; they count as parameters but add no bytes here.
        long bytes = g.Initializer.Sum(t => { try { return OnnxTensor.ByteSize(t); } catch (NotSupportedException) { return 0; } });
        AnsiConsole.MarkupLineInterpolated($"parameters: {parameters:N0} in {g.Initializer.Count} initializers ({bytes / 1024.0 / 1024.0:F2} MiB){(model.ExternalLocations.Count > 0 ? $", {model.ExternalLocations.Count} stored as external data" : "")}");
        var ops = g.Node.GroupBy(n => string.IsNullOrEmpty(n.Domain) ? n.OpType : $"{n.Domain}.{n.OpType}").OrderByDescending(x => x.Count()).ThenBy(x => x.Key);
        AnsiConsole.MarkupLineInterpolated($"nodes: {g.Node.Count}");
        var histogram = new Table().AddColumns("op", "count");
        foreach (var op in ops) histogram.AddRow(Row(op.Key, op.Count().ToString(CultureInfo.InvariantCulture)));
        AnsiConsole.Write(histogram);
    }

    static Text[] Row(params string[] cells) => cells.Select(c => new Text(c)).ToArray();

    static string TypeOf(global::Onnx.ValueInfoProto v) =>
        v.Type?.TensorType is { } t ? ((global::Onnx.TensorProto.Types.DataType)t.ElemType).ToString().ToLowerInvariant() : "?";

    static string ShapeOf(global::Onnx.ValueInfoProto v) =>
        v.Type?.TensorType?.Shape is { } s
            ? "[" + string.Join(", ", s.Dim.Select(d => d.ValueCase == global::Onnx.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.DimParam is { Length: > 0 } p ? p : "?")) + "]"
            : "?";
}
