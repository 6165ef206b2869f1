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
public sealed class InspectCommand : Command<InspectCommand.Settings>
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
        string described = string.Join(", ", inputs.Select(kv => $"{kv.Key} {kv.Value.dtype}[{string.Join(",", kv.Value.shape)}]"));
        AnsiConsole.MarkupLineInterpolated($"[grey]random inputs (seed {settings.Seed}):[/] {described}");

        var verdict = new ParityVerdict(settings.Tolerance);
        if (settings.Parity)
        {
            foreach (var d in ParityCheck.Run(model, inputs))
                Console.WriteLine(FormattableString.Invariant($"max_abs_diff: {d.MaxAbsDiff:E3}  output={d.Name} shape=[{string.Join(",", d.Shape)}] max_abs_value={d.MaxAbsValue:G4}{verdict.Mark(d.MaxAbsDiff, d.MaxAbsValue)}"));
            Console.WriteLine(verdict.Summary("importer vs ONNX Runtime"));
        }
        if (settings.TrainCheck)
        {
            var target = settings.Target == "noise" ? TrainCheckTarget.Noise : TrainCheckTarget.Outputs;
            var targetInputs = target == TrainCheckTarget.Outputs ? RandomInputs.For(model, settings.Seed + 1, settings.Batch, dims) : null;
            var r = OnnxHybrid.Onnx.TrainCheck.Run(model, inputs, settings.Seed, settings.Steps, target: target, targetInputs: targetInputs);
            string fitted = target == TrainCheckTarget.Noise ? "N(0,1) noise" : $"the outputs for random inputs of seed {settings.Seed + 1}";
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
            return options.Parity && !BundleParity(bundle!, options) ? 1 : 0;
        }
        Console.WriteLine($"problems ({problems.Count}):");
        foreach (var p in problems) Console.WriteLine($"  - {p}");
        throw ModelBundle.Fail(directory, problems);
    }

    /// <summary>One ONNX file of a bundle, with the sizes the bundle gives its inputs (null: free, e.g. the batch).</summary>
    sealed record BundleComponent(string Name, string Path, IReadOnlyDictionary<string, long?[]> InputSizes);

    /// <summary>Every ONNX component of a bundle: VAE encoder and decoder, each denoiser, the text encoder.</summary>
    static List<BundleComponent> Components(ModelBundle bundle)
    {
        var m = bundle.Manifest;
        long? sequence = m.TextEncoder?.Tokenizer.ResolvedMaxLength;
        var list = new List<BundleComponent>
        {
            new("vae_encoder", bundle.PathOf(m.Vae.Encoder), new Dictionary<string, long?[]> { [m.Vae.EncoderInput] = new long?[] { null, m.Image.Channels, m.Image.Size, m.Image.Size } }),
            new("vae_decoder", bundle.PathOf(m.Vae.Decoder), new Dictionary<string, long?[]> { [m.Vae.DecoderInput] = new long?[] { null, m.Latent.Channels, m.Latent.Size, m.Latent.Size } }),
        };
        foreach (var (name, d) in m.Denoisers)
        {
            var sizes = bundle.DenoiserSignature(d).Inputs.ToDictionary(i => i.Name, i => i.Dims?.ToArray() ?? new long?[i.Rank]);
            if (d.Kind == DenoiserSpec.UNetText && sizes[d.ConditionInput].Length == 3) sizes[d.ConditionInput][1] = sequence;  // context tokens
            list.Add(new(name, bundle.PathOf(d.File), sizes));
        }
        if (m.TextEncoder is { } te)
        {
            string path = te.Model == OnnxHybrid.Text.MiniLmResources.Builtin
                ? OnnxHybrid.Text.MiniLmResources.Ensure().ModelPath
                : ConfinedPath.Resolve(bundle.Directory, te.Model, "text_encoder.model");
            var sizes = new[] { te.InputIdsName, te.AttentionMaskName, te.TokenTypeIdsName }.OfType<string>()
                .ToDictionary(n => n, _ => new long?[] { null, sequence });
            list.Add(new("text_encoder", path, sizes));
        }
        return list;
    }

    /// <summary>Names the free dimensions of <paramref name="model"/>'s inputs with the bundle's sizes; --dim wins.</summary>
    static Dictionary<string, long> DimsFor(OnnxModel model, BundleComponent component, Dictionary<string, long> user)
    {
        var dims = new Dictionary<string, long>();
        foreach (var input in model.Graph.Input)
        {
            if (!component.InputSizes.TryGetValue(input.Name, out var sizes) || input.Type?.TensorType?.Shape is not { } shape) continue;
            for (int axis = 1; axis < shape.Dim.Count && axis < sizes.Length; axis++)
                if (shape.Dim[axis].DimParam is { Length: > 0 } param && sizes[axis] is long size)
                    dims.TryAdd(param, size);
        }
        foreach (var (name, value) in user) dims[name] = value;
        return dims;
    }

    /// <summary>
    /// `evlf inspect BUNDLE --parity`: every component in ONNX Runtime and in the importer on seeded random inputs
    /// (floats N(0,1), labels and token ids within their tables, timesteps in [0, 1000)); then, where tools/export
    /// left reference/reference.json, ONNX Runtime on the reference inputs against the PyTorch outputs.
    /// </summary>
    static bool BundleParity(ModelBundle bundle, Settings settings)
    {
        var verdict = new ParityVerdict(settings.Tolerance);
        var user = ParseDims(settings);
        var cpu = new SessionSettings(ExecutionDevice.Cpu);
        double worst = 0;
        int count = 0;
        foreach (var component in Components(bundle))
        {
            using var scope = NewDisposeScope();
            var model = OnnxModel.Load(component.Path);
            var inputs = RandomInputs.For(model, settings.Seed, settings.Batch, DimsFor(model, component, user));
            string described = string.Join(", ", inputs.Select(kv => $"{kv.Key} {kv.Value.dtype}[{string.Join(",", kv.Value.shape)}]"));
            AnsiConsole.MarkupLineInterpolated($"[grey]{component.Name}: random inputs (seed {settings.Seed}): {described}[/]");
            foreach (var d in ParityCheck.Run(model, inputs, cpu))
            {
                Console.WriteLine(FormattableString.Invariant($"{component.Name}: max_abs_diff: {d.MaxAbsDiff:E3}  output={d.Name} shape=[{string.Join(",", d.Shape)}] max_abs_value={d.MaxAbsValue:G4}{verdict.Mark(d.MaxAbsDiff, d.MaxAbsValue)}"));
                worst = Math.Max(worst, d.MaxAbsDiff);
                count++;
            }
        }
        Console.WriteLine(FormattableString.Invariant($"importer vs ONNX Runtime: {count} outputs, worst {worst:E3}"));
        Console.WriteLine(verdict.Summary("importer vs ONNX Runtime"));

        string index = System.IO.Path.Combine(bundle.Directory, ExportReference.DirectoryName, ExportReference.IndexFile);
        if (!File.Exists(index)) return !verdict.Failed;
        var pytorch = new ParityVerdict(settings.Tolerance);
        worst = 0;
        count = 0;
        foreach (var reference in ExportReference.Read(index))
        {
            using var scope = NewDisposeScope();
            using var session = OnnxSession.Open(bundle.PathOf(reference.File), cpu);
            var referenceInputs = reference.Inputs();
            if (session.Inputs.FirstOrDefault(i => !referenceInputs.ContainsKey(i.Name)) is { } lacking)
                throw new UserInputException($"Bundle '{bundle.Directory}': reference/{reference.Folder}/inputs has no '{lacking.Name}.pb' for {reference.Component}; was the reference written by another export?");
            var actual = session.Run(referenceInputs);
            foreach (var (name, expected) in reference.Outputs())
            {
                if (!actual.TryGetValue(name, out var got) || !got.shape.SequenceEqual(expected.shape))
                    throw new UserInputException($"Bundle '{bundle.Directory}': {reference.Component} output '{name}' does not match reference/{reference.Folder} (missing, or shape [{string.Join(",", got?.shape ?? Array.Empty<long>())}] instead of [{string.Join(",", expected.shape)}]); was the reference written by another export?");
                double diff = (got.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
                double scale = expected.abs().max().to(ScalarType.Float64).item<double>();
                Console.WriteLine(FormattableString.Invariant($"{reference.Component}: pytorch_max_abs_diff: {diff:E3}  output={name} shape=[{string.Join(",", expected.shape)}] max_abs_value={scale:G4}{pytorch.Mark(diff, scale)}"));
                worst = Math.Max(worst, diff);
                count++;
            }
        }
        Console.WriteLine(FormattableString.Invariant($"ONNX Runtime vs PyTorch (reference/): {count} outputs, worst {worst:E3}"));
        Console.WriteLine(pytorch.Summary("ONNX Runtime vs PyTorch"));
        return !verdict.Failed && !pytorch.Failed;
    }

    /// <summary>Counts outputs whose max_abs_diff exceeds tolerance × max(1, max_abs_value).</summary>
    sealed class ParityVerdict(double tolerance)
    {
        int checkedOutputs, failedOutputs;

        public bool Failed => failedOutputs > 0;

        /// <summary>Records one output; returns the mark to append to its line ("" when within tolerance).</summary>
        public string Mark(double diff, double scale)
        {
            checkedOutputs++;
            if (diff <= tolerance * Math.Max(1, scale)) return "";
            failedOutputs++;
            return "  FAIL";
        }

        public string Summary(string what) => Failed
            ? FormattableString.Invariant($"parity FAILED ({what}): {failedOutputs} of {checkedOutputs} outputs exceed {tolerance:G3} × max(1, max_abs_value)")
            : FormattableString.Invariant($"parity ok ({what}): {checkedOutputs} outputs within {tolerance:G3} × max(1, max_abs_value)");
    }

    /// <summary>
    /// The PyTorch reference tools/export writes into a bundle: reference/reference.json lists, per component, its ONNX
    /// file and a folder with inputs/*.pb and outputs/*.pb (serialized onnx TensorProto).
    /// </summary>
    sealed record ExportReference(string Component, string File, string Folder, string Root)
    {
        public const string DirectoryName = "reference";
        public const string IndexFile = "reference.json";

        public static List<ExportReference> Read(string indexPath)
        {
            string root = System.IO.Path.GetDirectoryName(indexPath)!;
            PathStatus.RequireFile(indexPath, "Export reference index");
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(indexPath));
                return doc.RootElement.GetProperty("components").EnumerateObject()
                    .Select(c => new ExportReference(c.Name, c.Value.GetProperty("file").GetString()!, c.Value.GetProperty("folder").GetString()!, root))
                    .ToList();
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
            {
                throw new UserInputException($"'{indexPath}' is not a tools/export reference index ({e.Message.Split('.')[0]}); delete the reference folder or export again.");
            }
        }

        public Dictionary<string, Tensor> Inputs() => ReadTensors("inputs");

        public Dictionary<string, Tensor> Outputs() => ReadTensors("outputs");

        /// <summary>The tensors in FOLDER/kind/*.pb; the folder must stay inside the bundle's reference/ folder, and only regular files are read.</summary>
        Dictionary<string, Tensor> ReadTensors(string kind)
        {
            var folder = ConfinedPath.Resolve(Root, System.IO.Path.Combine(Folder, kind), $"Export reference '{Component}': folder");
            if (!Directory.Exists(folder)) throw new UserInputException($"Export reference '{Component}': folder '{folder}' was not found; delete the reference folder or export again.");
            var tensors = new Dictionary<string, Tensor>();
            foreach (var f in Directory.GetFiles(folder, "*.pb").Where(f => PathStatus.Of(f).IsRegular).OrderBy(f => f, StringComparer.Ordinal))
            {
                try { tensors[System.IO.Path.GetFileNameWithoutExtension(f)] = OnnxTensor.ToTorch(global::Onnx.TensorProto.Parser.ParseFrom(System.IO.File.ReadAllBytes(f))); }
                catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or NotSupportedException or ArgumentException)
                {
                    throw new UserInputException($"Export reference tensor '{f}' could not be read ({e.Message.Split('.')[0]}); delete the reference folder or export again.", e);
                }
            }
            return tensors;
        }
    }

    static int InspectData(Settings settings, CancellationToken cancellationToken)
    {
        var dataset = DataSpec.Open(settings.Data!);
        DatasetReport report = null!;
        if (settings.Quiet || !AnsiConsole.Profile.Capabilities.Interactive)
            report = DatasetInspector.Inspect(dataset, settings.SkipBad, null, cancellationToken);
        else
            AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    var progress = new InlineProgress<InspectProgress>(p =>
                    {
                        if (!tasks.TryGetValue(p.Split, out var task)) tasks[p.Split] = task = ctx.AddTask($"decoding {p.Split}", maxValue: Math.Max(p.Total, 1));
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
