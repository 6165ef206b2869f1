using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Text;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Evlf.OnnxHybrid.Models;

/// <summary>
/// A model bundle folder: <c>bundle.json</c> plus the ONNX files it names. <see cref="Load"/> checks the
/// manifest (numbers, names, files present); opening a component checks that ONNX file's signature against
/// what the manifest says. <see cref="Check"/> does both for every component and lists every problem.
/// </summary>
public sealed class ModelBundle
{
    ModelBundle(string directory, BundleManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    public string Directory { get; }
    public BundleManifest Manifest { get; }

    public string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>Reads and checks bundle.json; every problem found goes into one exception message.</summary>
    public static ModelBundle Load(string directory)
    {
        var (bundle, problems) = Read(directory);
        if (problems.Count > 0) throw Fail(directory, problems);
        return bundle!;
    }

    /// <summary>Reads the manifest and opens every component, collecting every problem (none = usable).</summary>
    public static (ModelBundle? Bundle, List<string> Problems) Check(string directory, SessionSettings? settings = null)
    {
        var (bundle, problems) = Read(directory);
        if (bundle is null) return (null, problems);
        var m = bundle.Manifest;
        void Try(Action open)
        {
            try { open(); }
            catch (UserInputException e) { problems.Add(e.Message.TrimEnd('.')); }
        }
        if (File.Exists(bundle.PathOf(m.Vae.Encoder))) Try(() => bundle.OpenVaeEncoder(settings).Dispose());
        if (File.Exists(bundle.PathOf(m.Vae.Decoder))) Try(() => bundle.OpenVaeDecoder(settings).Dispose());
        foreach (var (name, d) in m.Denoisers)
            if (File.Exists(bundle.PathOf(d.File))) Try(() => bundle.OpenDenoiser(name, settings).Dispose());
        if (m.TextEncoder is not null && m.TextEncoder.FindProblems(bundle.Directory).Count == 0)
            Try(() => bundle.OpenTextEncoder(settings).Dispose());
        return (bundle, problems);
    }

    public static UserInputException Fail(string directory, IReadOnlyList<string> problems) =>
        new(problems.Count == 1
            ? $"Bundle '{directory}': {problems[0]}."
            : $"Bundle '{directory}' has {problems.Count} problems: {string.Join("; ", problems)}.");

    static (ModelBundle?, List<string>) Read(string directory)
    {
        var problems = new List<string>();
        if (!System.IO.Directory.Exists(directory))
            return (null, new() { $"the folder was not found (expected a folder holding {BundleManifest.FileName})" });
        string manifestPath = Path.Combine(directory, BundleManifest.FileName);
        if (!File.Exists(manifestPath))
            return (null, new() { $"{BundleManifest.FileName} is missing" });
        BundleManifest? m;
        try { m = JsonSerializer.Deserialize<BundleManifest>(File.ReadAllText(manifestPath), BundleManifest.Json); }
        catch (JsonException e)
        {
            return (null, new() { $"{BundleManifest.FileName} is not valid ({e.Message.Split('.')[0]}{(e.LineNumber is long l ? $", line {l + 1}" : "")})" });
        }
        if (m is null) return (null, new() { $"{BundleManifest.FileName} is empty" });

        if (m.Format != BundleManifest.CurrentFormat) problems.Add($"format is '{m.Format}', expected '{BundleManifest.CurrentFormat}'");
        if (m.Image.Channels is not (1 or 3)) problems.Add($"image.channels is {m.Image.Channels}, expected 1 or 3");
        if (m.Image.Size < 1) problems.Add($"image.size is {m.Image.Size}, expected a positive side length");
        if (m.Latent.Channels < 1) problems.Add($"latent.channels is {m.Latent.Channels}, expected at least 1");
        if (m.Latent.Size < 1 || m.Latent.Size > m.Image.Size) problems.Add($"latent.size is {m.Latent.Size}, expected between 1 and image.size ({m.Image.Size})");
        if (!(m.Latent.ScalingFactor > 0)) problems.Add($"latent.scaling_factor is {m.Latent.ScalingFactor}, expected a positive number");
        foreach (var (field, file) in new[] { ("vae.encoder", m.Vae.Encoder), ("vae.decoder", m.Vae.Decoder) })
            CheckFile(directory, field, file, problems);
        if (m.TextEncoder is not null) problems.AddRange(m.TextEncoder.FindProblems(directory).Select(p => p.TrimEnd('.')));

        if (m.Denoisers.Count == 0) problems.Add("denoisers is empty, expected at least one (unet-text or dit-class)");
        foreach (var (name, d) in m.Denoisers)
        {
            string f = $"denoisers.{name}";
            if (d.Kind is not (DenoiserSpec.UNetText or DenoiserSpec.DitClass))
                problems.Add($"{f}.kind is '{d.Kind}', expected '{DenoiserSpec.UNetText}' or '{DenoiserSpec.DitClass}'");
            CheckFile(directory, f + ".file", d.File, problems);
            var s = d.Schedule;
            if (s.Kind is not ("linear" or "scaled-linear")) problems.Add($"{f}.schedule.kind is '{s.Kind}', expected 'linear' or 'scaled-linear'");
            if (!(s.BetaStart > 0 && s.BetaStart < s.BetaEnd && s.BetaEnd < 1)) problems.Add($"{f}.schedule has beta_start {s.BetaStart} and beta_end {s.BetaEnd}, expected 0 < beta_start < beta_end < 1");
            if (s.Steps < 2) problems.Add($"{f}.schedule.steps is {s.Steps}, expected at least 2");
            if (d.Kind == DenoiserSpec.DitClass && d.NullClass is null) problems.Add($"{f}.null_class is missing (a dit-class denoiser needs the label used for unconditional guidance)");
            if (d.Kind == DenoiserSpec.DitClass && d.NullClass is int nc && nc < m.Classes.Count) problems.Add($"{f}.null_class is {nc}, which is one of the {m.Classes.Count} real classes");
            if (d.Kind == DenoiserSpec.UNetText && m.TextEncoder is null) problems.Add($"{f} is a unet-text denoiser but the bundle has no text_encoder");
            if (d.FinetunePattern is { } pattern)
            {
                try { _ = new System.Text.RegularExpressions.Regex(pattern); }
                catch (ArgumentException) { problems.Add($"{f}.finetune '{pattern}' is not a valid regular expression"); }
            }
        }
        if (m.Classes.Count == 0) problems.Add("classes is empty, expected the class names in label order");
        if (m.Classes.Distinct().Count() != m.Classes.Count) problems.Add("classes has duplicate names");
        if (m.PromptNames is { } pn && pn.Count != m.Classes.Count) problems.Add($"prompt_names has {pn.Count} entries, expected one per class ({m.Classes.Count})");
        if (!m.PromptTemplate.Contains("{class}")) problems.Add($"prompt_template '{m.PromptTemplate}' has no {{class}} placeholder");
        return (new ModelBundle(Path.GetFullPath(directory), m), problems);
    }

    static void CheckFile(string directory, string field, string file, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(file)) problems.Add($"{field} is empty, expected an ONNX file name");
        else if (Path.IsPathRooted(file) || file.Split('/', '\\').Contains("..")) problems.Add($"{field} '{file}' points outside the bundle folder");
        else if (!File.Exists(Path.Combine(directory, file))) problems.Add($"{field} '{file}' was not found");
    }

    static TensorSpec Float(string name, params long?[] dims) => new(name, TensorElementType.Float, dims.Length, dims);
    static TensorSpec Int64(string name, int rank) => new(name, TensorElementType.Int64, rank);

    public OnnxSession OpenVaeEncoder(SessionSettings? settings = null)
    {
        var m = Manifest;
        var signature = new ModelSignature(
            new[] { Float(m.Vae.EncoderInput, null, m.Image.Channels, m.Image.Size, m.Image.Size) },
            new[] { Float(m.Vae.MeanOutput, null, m.Latent.Channels, m.Latent.Size, m.Latent.Size), Float(m.Vae.LogVarOutput, null, m.Latent.Channels, m.Latent.Size, m.Latent.Size) });
        return OnnxSession.Open(PathOf(m.Vae.Encoder), settings, signature);
    }

    public OnnxSession OpenVaeDecoder(SessionSettings? settings = null)
    {
        var m = Manifest;
        var signature = new ModelSignature(
            new[] { Float(m.Vae.DecoderInput, null, m.Latent.Channels, m.Latent.Size, m.Latent.Size) },
            new[] { Float(m.Vae.DecoderOutput, null, m.Image.Channels, m.Image.Size, m.Image.Size) });
        return OnnxSession.Open(PathOf(m.Vae.Decoder), settings, signature);
    }

    public DenoiserSpec Denoiser(string name) =>
        Manifest.Denoisers.TryGetValue(name, out var d) ? d
            : throw new UserInputException($"Bundle '{Directory}' has no denoiser '{name}'; it has: {string.Join(", ", Manifest.Denoisers.Keys)}.");

    /// <summary>The expected signature of a denoiser: its latent channels must agree with the bundle's latent space.</summary>
    public ModelSignature DenoiserSignature(DenoiserSpec d)
    {
        var m = Manifest;
        long outChannels = d.LearnedSigma ? 2L * m.Latent.Channels : m.Latent.Channels;
        var condition = d.Kind == DenoiserSpec.DitClass
            ? Int64(d.ConditionInput, 1)
            : new TensorSpec(d.ConditionInput, TensorElementType.Float, 3, new long?[] { null, null, m.TextEncoder?.HiddenSize });
        return new ModelSignature(
            new[] { Float(d.SampleInput, null, m.Latent.Channels, m.Latent.Size, m.Latent.Size), Int64(d.TimestepInput, 1), condition },
            new[] { Float(d.Output, null, outChannels, m.Latent.Size, m.Latent.Size) });
    }

    public OnnxSession OpenDenoiser(string name, SessionSettings? settings = null)
    {
        var d = Denoiser(name);
        return OnnxSession.Open(PathOf(d.File), settings, DenoiserSignature(d));
    }

    public TextEncoder OpenTextEncoder(SessionSettings? settings = null, string? cacheDirectory = null) =>
        Manifest.TextEncoder is { } config
            ? TextEncoder.Open(config, Directory, settings, cacheDirectory)
            : throw new UserInputException($"Bundle '{Directory}' has no text_encoder.");

    /// <summary>Writes a manifest atomically into a bundle folder.</summary>
    public static void WriteManifest(string directory, BundleManifest manifest)
    {
        AtomicFile.WriteJson(Path.Combine(directory, BundleManifest.FileName), manifest, BundleManifest.Json);
    }
}
