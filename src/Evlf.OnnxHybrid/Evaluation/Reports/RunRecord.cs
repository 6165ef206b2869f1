using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>What a run's eval.json says (see <see cref="EvaluationResult.ToJson"/>).</summary>
/// <param name="Mean">Mean test accuracy, percent.</param>
/// <param name="Std">Population standard deviation of the repeats, percent.</param>
/// <param name="Repeats">Classifiers trained.</param>
/// <param name="Epochs">Training epochs per classifier.</param>
/// <param name="Protocol">dsa, idc or soft.</param>
/// <param name="Model">The classifier, e.g. convnet3.</param>
/// <param name="ProtocolSettings">The protocol's settings in words, when recorded.</param>
public sealed record RunAccuracy(double Mean, double Std, int Repeats, int Epochs, string Protocol, string Model, string? ProtocolSettings)
{
    /// <summary>Whether this is the DC/DSA protocol the published Fashion-MNIST numbers use: ConvNet-3, DSA, 1000 epochs.</summary>
    public bool IsDsaReference => Model == "convnet3" && Protocol == "dsa" && Epochs == 1000 && !WithoutAugmentation;

    /// <summary>
    /// Whether this is DC's own evaluation, under which the published random and herding rows were measured: ConvNet-3,
    /// 300 epochs, no augmentation (DC's code augments only MNIST, not Fashion-MNIST; a DSA protocol with no augmentation and 300 epochs).
    /// </summary>
    public bool IsDcReference => Model == "convnet3" && Protocol == "dsa" && Epochs == 300 && WithoutAugmentation;

    bool WithoutAugmentation => ProtocolSettings?.Contains("DSA none", StringComparison.Ordinal) == true;

    /// <summary>Soft-label evaluation (protocol "soft"): the teacher's network, when eval.json names one.</summary>
    public string? Teacher { get; init; }

    /// <summary>Soft-label evaluation: the teacher's test accuracy, percent.</summary>
    public double? TeacherAccuracy { get; init; }

    /// <summary>Soft-label evaluation: the temperature T.</summary>
    public double? Temperature { get; init; }

    /// <summary>The classifier seeds of the repeats, in the order of <see cref="Accuracies"/>; empty when eval.json lists none.</summary>
    public IReadOnlyList<long> Seeds { get; init; } = [];

    /// <summary>Each repeat's test accuracy, percent; empty when eval.json lists none.</summary>
    public IReadOnlyList<double> Accuracies { get; init; } = [];

    /// <summary>
    /// Whether <paramref name="other"/> trained the same classifier the same way (model, protocol and its settings, epochs,
    /// and for soft labels the teacher and T), so that two repeats of one seed differ only by the images.
    /// </summary>
    public bool SameProtocolAs(RunAccuracy other) =>
        Model == other.Model && Protocol == other.Protocol && Epochs == other.Epochs && ProtocolSettings == other.ProtocolSettings
        && Teacher == other.Teacher && Temperature == other.Temperature && TeacherAccuracy == other.TeacherAccuracy;

    /// <summary>
    /// Whether the students learnt from a teacher's soft labels (<see cref="SoftLabelProtocol"/>): never comparable with
    /// hard-label results or the published DC/DSA rows.
    /// </summary>
    public bool IsSoftLabel => Protocol == "soft";

    /// <summary>The protocol as the runs table shows it: its name, and for soft labels the teacher, its accuracy and T.</summary>
    public string ProtocolLabel => !IsSoftLabel ? Protocol : FormattableString.Invariant(
        $"soft ({Teacher ?? "?"} teacher{(TeacherAccuracy is double a ? $" {a:F2}%" : "")}{(Temperature is double t ? $", T {t}" : "")})");
}

/// <summary>
/// One run folder as <c>evlf report</c> sees it: the method, EVLF and fine-tune flags, IPC and seed from
/// manifest.json (as <c>evlf distill</c> or the baselines write it), and the accuracy from eval.json when the run
/// has been evaluated.
/// </summary>
public sealed record RunRecord
{
    /// <summary>The folder, as given.</summary>
    public required string Directory { get; init; }

    /// <summary>The folder's own name.</summary>
    public required string Name { get; init; }

    /// <summary>random, herding, dit, d4m, mgd3 (lower case), or "unknown" when neither file names one.</summary>
    public required string Method { get; init; }

    public bool Evlf { get; init; }
    public bool Finetune { get; init; }
    /// <summary>Candidates sampled per kept image (manifest options.Candidates; 1 when it records none).</summary>
    public int Candidates { get; init; } = 1;
    /// <summary>The img2img strength when sampling started from real latents (manifest options.Start = Real or RealNeighbours); else null.</summary>
    public double? RealStartStrength { get; init; }
    /// <summary>Whether each candidate started from a real latent of its own (manifest options.Start = RealNeighbours).</summary>
    public bool RealStartNeighbours { get; init; }
    /// <summary>Whether the samples kept their real starts' pixel detail (manifest options.RealDetail, with a real start).</summary>
    public bool RealDetail { get; init; }
    /// <summary>Whether the samples were written in their real starts' own orientation (manifest options.OwnView, with a real start).</summary>
    public bool OwnView { get; init; }
    /// <summary>Whether the selection kept one candidate of each mode first (manifest options.OnePerMode, with candidates).</summary>
    public bool OnePerMode { get; init; }
    /// <summary>
    /// How the candidates were narrowed (manifest options.Selection, with candidates), as `evlf distill --selection` names
    /// it; null for herding, the default, and when the run sampled one candidate per image or records none.
    /// </summary>
    public string? Selection { get; init; }
    public int? Ipc { get; init; }
    public long? Seed { get; init; }

    /// <summary>The manifest's data spec (data.spec), when it records one.</summary>
    public string? DataSpec { get; init; }

    /// <summary>Null when the run has no eval.json.</summary>
    public RunAccuracy? Accuracy { get; init; }

    /// <summary>
    /// What the run was made with besides its seed and EVLF: the manifest's options (one it does not name at its default,
    /// as before the option existed) without the places it wrote to or read
    /// from (output, cache, bundle and data paths, device, quiet, force), without EVLF and the settings only fusion reads,
    /// with the data's identity and the bundle's <see cref="BundleId"/> instead of their paths; null when the manifest has
    /// no options. Runs with equal settings and seed differ only by EVLF (<see cref="EvlfPairs"/>).
    /// </summary>
    public string? Settings { get; init; }

    /// <summary>The settings only fusion reads (its training, a trained module, the prompt template), when the run used EVLF; else null.</summary>
    public string? FusionSettings { get; init; }

    /// <summary>Whether the folder holds an image set (manifest.json with an imageSet and images/).</summary>
    public bool HasImages { get; init; }

    /// <summary>
    /// SHA-256 of each bundle file the run's images were made with (manifest bundle.hashes: bundle.json, the VAE, the
    /// denoiser), by file name; empty for runs that used no bundle (random, herding) or whose manifest predates the record.
    /// </summary>
    public IReadOnlyDictionary<string, string> BundleHashes { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The first 8 hex digits of the SHA-256 of <see cref="BundleHashes"/> (as "name=hash" lines in ordinal order of the
    /// names), so runs made with the same bundle files show the same id; null without hashes.
    /// </summary>
    public string? BundleId => BundleHashes.Count == 0 ? null
        : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Concat(BundleHashes.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value}\n")))))[..8];

    /// <summary>
    /// The row label: the method, "+EVLF" with fusion, "+ft" with a fine-tuned denoiser, "+realS" when sampling started
    /// from real latents at strength S ("+real-neighboursS" when each candidate had its own), "+detail" when the samples kept
    /// the real starts' pixel detail, "+own-view" when they were written in their starts' own orientation, "+select×M" when
    /// M candidates were sampled per kept image ("+select×M-discriminative" when chosen otherwise than by herding, as
    /// <see cref="Selection"/> names it), "+select×M/mode" when one of each mode was kept first. E.g. "d4m+EVLF";
    /// "mgd3+EVLF+real0.3+select×10", what `evlf distill` runs by default from IPC 10 up; "mgd3+EVLF+real0.2+detail+select×10",
    /// from IPC 50 up.
    /// </summary>
    public string Label => Method + (Evlf ? "+EVLF" : "") + (Finetune ? "+ft" : "")
        + (RealStartStrength is double s ? FormattableString.Invariant($"+real{(RealStartNeighbours ? "-neighbours" : "")}{s}") : "")
        + (RealDetail ? "+detail" : "") + (OwnView ? "+own-view" : "") + (Candidates > 1 ? $"+select×{Candidates}{(Selection is null ? "" : "-" + Selection)}{(OnePerMode ? "/mode" : "")}" : "");

    /// <summary>Reads <paramref name="directory"/>; a missing folder, a missing or unreadable manifest.json, or an unreadable eval.json is a <see cref="UserInputException"/>.</summary>
    public static RunRecord Read(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new UserInputException($"Run folder '{directory}' does not exist; expected a folder with manifest.json as evlf distill writes it.");
        var manifestPath = Path.Combine(directory, SyntheticSetReader.ManifestFile);
        if (!File.Exists(manifestPath))
            throw new UserInputException($"Run folder '{directory}' has no manifest.json; expected a run folder as evlf distill writes it.");
        var manifest = ParseObject(manifestPath);
        var options = manifest["options"] as JsonObject;
        var start = EnumOf<SampleStart>(options?["Start"]);
        bool realStart = start is SampleStart.Real or SampleStart.RealNeighbours;

        var evalPath = Path.Combine(directory, EvaluationResult.FileName);
        JsonObject? eval = File.Exists(evalPath) ? ParseObject(evalPath) : null;

        var method = (Text(manifest["method"]) ?? Text(options?["method"]) ?? Text(eval?["method"]) ?? "unknown").ToLowerInvariant();
        int? ipc = Integer(manifest["ipc"]) ?? Integer(options?["ipc"]) ?? Integer(eval?["ipc"]) ?? ImageSetIpc(manifest);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var hashes = ((manifest["bundle"] as JsonObject)?["hashes"] as JsonObject)?
            .Select(h => (h.Key, Hash: Text(h.Value))).Where(h => h.Hash is not null).ToDictionary(h => h.Key, h => h.Hash!)
            ?? new Dictionary<string, string>();
        int candidates = Integer(options?["Candidates"]) ?? 1;
        var record = new RunRecord
        {
            Directory = directory,
            Name = name,
            Method = method,
            Evlf = Flag(manifest["evlf"]),
            Finetune = Flag(manifest["finetune"]),
            Candidates = candidates,
            RealStartStrength = realStart ? Double(options?["Strength"]) : null,
            RealStartNeighbours = start == SampleStart.RealNeighbours,
            RealDetail = realStart && Flag(options?["RealDetail"]),
            OwnView = realStart && Flag(options?["OwnView"]),
            OnePerMode = candidates > 1 && Flag(options?["OnePerMode"]),
            Selection = candidates > 1 ? SelectionOf(options?["Selection"]) : null,
            Ipc = ipc,
            Seed = Long(manifest["seed"]) ?? Long(options?["seed"]),
            DataSpec = Text((manifest["data"] as JsonObject)?["spec"]),
            Accuracy = eval is null ? null : ReadAccuracy(eval, evalPath),
            HasImages = manifest[SyntheticSetWriter.ManifestKey] is JsonObject && SyntheticSetReader.IsSyntheticSet(directory),
            BundleHashes = hashes,
        };
        if (options is null) return record;
        var filled = WithDefaults(options, DefaultOptions);
        return record with
        {
            Settings = Canonical(filled, key => !RunKeys.Contains(key) && !FusionKeys.Contains(key))
                + $";data={Text((manifest["data"] as JsonObject)?["id"]) ?? record.DataSpec};bundle={record.BundleId}",
            FusionSettings = record.Evlf ? Canonical(filled, FusionKeys.Contains) : null,
        };
    }

    /// <summary>Options that say where a run read and wrote and how it talked, its seed, and whether it fused: the rest is what else it made.</summary>
    static readonly HashSet<string> RunKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "Out", "Cache", "Bundle", "Data", "Device", "Quiet", "Force", "Threads", "Seed", "Evlf", "UsesFusion",
    };

    /// <summary>Options only the fusion stage reads (DistillOptions.Fusion, FusionTraining, FusionUsesPromptTemplate).</summary>
    static readonly HashSet<string> FusionKeys = new(StringComparer.OrdinalIgnoreCase) { "Fusion", "FusionTraining", "FusionUsesPromptTemplate" };

    /// <summary>
    /// <paramref name="options"/> with each option it does not name, at any depth (FusionTraining's too), set to its value
    /// in <paramref name="defaults"/> (<see cref="DefaultOptions"/>): a manifest written before an option existed names no
    /// value for it, and an option that is added keeps what runs did before by default, so such a run pairs with a twin
    /// made later with the option at its default.
    /// </summary>
    static JsonObject WithDefaults(JsonObject options, JsonObject defaults)
    {
        var filled = (JsonObject)defaults.DeepClone();
        foreach (var (key, value) in options)
            filled[key] = value is JsonObject inner && defaults[key] is JsonObject innerDefaults ? WithDefaults(inner, innerDefaults) : value?.DeepClone();
        return filled;
    }

    /// <summary><see cref="DistillOptions"/> as constructed, as a manifest records options.</summary>
    static readonly JsonObject DefaultOptions = JsonSerializer.SerializeToNode(new DistillOptions())!.AsObject();

    /// <summary>The options whose names pass <paramref name="keep"/>, in ordinal order of the names, as compact JSON.</summary>
    static string Canonical(JsonObject options, Func<string, bool> keep) =>
        new JsonObject(options.Where(o => keep(o.Key)).OrderBy(o => o.Key, StringComparer.Ordinal)
            .Select(o => KeyValuePair.Create(o.Key, o.Value?.DeepClone()))).ToJsonString();

    static RunAccuracy ReadAccuracy(JsonObject eval, string path)
    {
        var accuracies = (eval["accuracies"] as JsonArray)?.Select(a => Double(a)).ToArray();
        double? mean = Double(eval["mean"]), std = Double(eval["std"]);
        if (mean is null && accuracies is { Length: > 0 } && accuracies.All(a => a is not null)) mean = accuracies.Average(a => a!.Value);
        if (mean is null)
            throw new UserInputException($"Evaluation file '{path}' has no numeric 'mean'; expected eval.json as evlf eval writes it.");
        var (seeds, values) = (PerRepeat(eval["seeds"], Long), PerRepeat(eval["accuracies"], Double));
        bool paired = seeds is not null && values is not null && seeds.Length == values.Length;
        return new RunAccuracy(
            Mean: mean.Value,
            Std: std ?? double.NaN,
            Repeats: Integer(eval["repeats"]) ?? accuracies?.Length ?? 0,
            Epochs: Integer(eval["epochs"]) ?? 0,
            Protocol: Text(eval["protocol"]) ?? "?",
            Model: Text(eval["model"]) ?? "?",
            ProtocolSettings: Text(eval["protocolSettings"]))
        {
            Teacher = Text(eval["teacher"]),
            TeacherAccuracy = Double(eval["teacherAccuracy"]),
            Temperature = Double(eval["temperature"]),
            Seeds = paired ? seeds! : [],
            Accuracies = paired ? values! : [],
        };
    }

    /// <summary>Every element of a JSON array read by <paramref name="read"/>, or null when it is no array or an element does not read.</summary>
    static T[]? PerRepeat<T>(JsonNode? n, Func<JsonNode?, T?> read) where T : struct =>
        n is JsonArray array && array.Select(read).ToArray() is var values && values.All(v => v is not null) ? values.Select(v => v!.Value).ToArray() : null;

    static JsonObject ParseObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new UserInputException($"File '{path}' does not hold a JSON object; expected one as evlf writes it.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"File '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The largest per-class count of the manifest's imageSet, when it lists classes.</summary>
    static int? ImageSetIpc(JsonObject manifest)
    {
        var counts = (manifest[SyntheticSetWriter.ManifestKey] as JsonObject)?["classes"] as JsonArray;
        var values = counts?.Select(c => Integer((c as JsonObject)?["count"])).Where(c => c is not null).Select(c => c!.Value).ToArray();
        return values is { Length: > 0 } ? values.Max() : null;
    }

    static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    static bool Flag(JsonNode? n) => n is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    static double? Double(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>A manifest's enum option (written as the enum's number, or its name); null when it records none evlf knows.</summary>
    static T? EnumOf<T>(JsonNode? value) where T : struct, Enum =>
        Integer(value) is int i && Enum.IsDefined(typeof(T), i) ? (T)Enum.ToObject(typeof(T), i)
        : Enum.TryParse<T>(Text(value), true, out var named) && !int.TryParse(Text(value), out _) ? named : null;

    /// <summary>A selection other than herding as `evlf distill --selection` names it (KernelHerding → kernel-herding); null for herding or one this evlf does not know.</summary>
    static string? SelectionOf(JsonNode? selection) => EnumOf<CandidateSelection>(selection) is { } known && known != CandidateSelection.Herding
        ? string.Concat(known.ToString().Select((ch, k) => char.IsUpper(ch) && k > 0 ? "-" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()))
        : null;

    static int? Integer(JsonNode? n) => Long(n) is long l and >= int.MinValue and <= int.MaxValue ? (int)l : null;

    static long? Long(JsonNode? n)
    {
        if (n is not JsonValue v) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        return v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15 ? (long)d : null;
    }
}
