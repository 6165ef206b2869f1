using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Text;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Evlf.OnnxHybrid.Bundles;

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

    /// <summary>
    /// The resolved path of <paramref name="file"/>, a path the manifest names relative to the bundle folder; throws
    /// <see cref="UserInputException"/> when it leaves the folder (<c>..</c>, an absolute path, or a link out).
    /// </summary>
    public string PathOf(string file) => ConfinedPath.Resolve(Directory, file, $"Bundle '{Directory}': file");

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
        // Only files that passed the checks are opened: a path out of the folder is reported, never read.
        if (bundle.IsUsable(m.Vae.Encoder)) Try(() => bundle.OpenVaeEncoder(settings).Dispose());
        if (bundle.IsUsable(m.Vae.Decoder)) Try(() => bundle.OpenVaeDecoder(settings).Dispose());
        foreach (var (name, d) in m.Denoisers)
            if (d is not null && bundle.IsUsable(d.File)) Try(() => bundle.OpenDenoiser(name, settings).Dispose());
        if (m.TextEncoder is not null && m.TextEncoder.FindProblems(bundle.Directory).Count == 0)
            Try(() => bundle.OpenTextEncoder(settings).Dispose());
        return (bundle, problems);
    }

    public static UserInputException Fail(string directory, IReadOnlyList<string> problems) =>
        new(problems.Count == 1
            ? $"Bundle '{directory}': {problems[0]}."
            : $"Bundle '{directory}' has {problems.Count} problems: {string.Join("; ", problems)}.");

    /// <summary>Largest bundle.json read: a manifest is a few kilobytes; this keeps a hostile one from filling memory.</summary>
    const long MaxManifestBytes = 16L * 1024 * 1024;

    static (ModelBundle?, List<string>) Read(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            return (null, new() { $"the folder was not found (expected a folder holding {BundleManifest.FileName})" });
        string manifestPath = Path.Combine(directory, BundleManifest.FileName);
        var status = PathStatus.Of(manifestPath);
        if (status.Kind == PathKind.Missing)
            return (null, new() { $"{BundleManifest.FileName} is missing" });
        if (status.Kind != PathKind.Regular)
            return (null, new() { $"{BundleManifest.FileName} is not a regular file (a folder, FIFO, socket or device), so it was not read" });
        if (status.Size > MaxManifestBytes)
            return (null, new() { $"{BundleManifest.FileName} is {status.Size} bytes, more than the {MaxManifestBytes} a manifest may have" });
        BundleManifest? m;
        try { m = JsonSerializer.Deserialize<BundleManifest>(File.ReadAllBytes(manifestPath), BundleManifest.Json); }
        catch (JsonException e)
        {
            return (null, new() { $"{BundleManifest.FileName} is not valid ({e.Message.Split('.')[0]}{(e.LineNumber is long l ? $", line {l + 1}" : "")})" });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, new() { $"{BundleManifest.FileName} could not be read ({e.Message.TrimEnd('.')})" });
        }
        if (m is null) return (null, new() { $"{BundleManifest.FileName} is empty" });
        // Nullability of dictionary values is not enforced by the parser; a null denoiser leaves nothing to describe.
        if (m.Denoisers.FirstOrDefault(d => d.Value is null).Key is { } nullDenoiser)
            return (null, new() { $"denoisers.{nullDenoiser} is null, expected a denoiser object" });

        var problems = m.FindValueProblems();
        foreach (var (field, file) in new[] { ("vae.encoder", m.Vae.Encoder), ("vae.decoder", m.Vae.Decoder) })
            CheckFile(directory, field, file, problems);
        if (m.TextEncoder is not null) problems.AddRange(m.TextEncoder.FindProblems(directory).Select(p => p.TrimEnd('.')));
        foreach (var (name, d) in m.Denoisers)
            if (d is not null) CheckFile(directory, $"denoisers.{name}.file", d.File, problems);
        return (new ModelBundle(Path.GetFullPath(directory), m), problems);
    }

    /// <summary>A component file must resolve (links followed) to a regular file inside the bundle folder.</summary>
    static void CheckFile(string directory, string field, string file, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(file))
        {
            problems.Add($"{field} is empty, expected an ONNX file name");
            return;
        }
        var path = ConfinedPath.TryResolve(directory, file, out var problem);
        if (path is null)
        {
            problems.Add($"{field} '{file}' {problem}");
            return;
        }
        var kind = PathStatus.Of(path).Kind;
        if (kind == PathKind.Missing) problems.Add($"{field} '{file}' was not found");
        else if (kind != PathKind.Regular) problems.Add($"{field} '{file}' is not a regular file (a folder, FIFO, socket or device)");
    }

    /// <summary>Whether <paramref name="file"/> is a regular file inside the bundle (so opening it is safe and meaningful).</summary>
    bool IsUsable(string file) =>
        !string.IsNullOrWhiteSpace(file) && ConfinedPath.TryResolve(Directory, file, out _) is { } path && PathStatus.Of(path).IsRegular;

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
