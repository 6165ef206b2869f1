using System.Text.Json;
using System.Text.Json.Nodes;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Writes a synthetic image set — <c>ROOT/images/&lt;class folder&gt;/&lt;n&gt;.png</c> plus <c>ROOT/manifest.json</c> —
/// so that it appears complete or not at all. Everything goes to a hidden sibling folder
/// (<c>.ROOT.&lt;id&gt;.evlf-tmp</c>); <see cref="Commit"/> writes the manifest last and renames the folder into
/// place, replacing an existing ROOT only then. Disposing without committing deletes the temporary folder; a
/// run killed before committing leaves ROOT untouched, and the next writer for the same ROOT removes the
/// leftover. Class folders are <see cref="ClassFolderNames.Assign"/> of the class names; the manifest keeps
/// the real names and their order, which is the label order.
/// </summary>
public sealed class SyntheticSetWriter : IDisposable
{
    /// <summary>The manifest property this writer owns; the caller's metadata may not use it.</summary>
    public const string ManifestKey = "imageSet";

    /// <summary>Value of imageSet.format.</summary>
    public const string Format = "evlf-image-set/1";

    private const string TempSuffix = ".evlf-tmp";
    private const string OldSuffix = ".evlf-old";

    private readonly int[] counts;
    private readonly object gate = new();
    private bool committed;
    private bool disposed;

    private SyntheticSetWriter(string root, string tempRoot, IReadOnlyList<string> classNames, IReadOnlyList<string> folders, int channels)
    {
        Root = root;
        TempRoot = tempRoot;
        ClassNames = classNames.ToArray();
        ClassFolders = folders;
        Channels = channels;
        counts = new int[classNames.Count];
    }

    /// <summary>The folder the finished set will occupy.</summary>
    public string Root { get; }

    /// <summary>The temporary folder being written now.</summary>
    public string TempRoot { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Folder name of each class under images/.</summary>
    public IReadOnlyList<string> ClassFolders { get; }

    /// <summary>Channels of the PNGs written (images are converted to it).</summary>
    public int Channels { get; }

    /// <summary>Images added so far, per class.</summary>
    public IReadOnlyList<int> Counts
    {
        get { lock (gate) return counts.ToArray(); }
    }

    /// <summary>
    /// Starts a set for <paramref name="classNames"/> (label order) to be committed at <paramref name="root"/>.
    /// Throws <see cref="UserInputException"/> for a class name that cannot be a folder or a root that is a file.
    /// </summary>
    public static SyntheticSetWriter Create(string root, IReadOnlyList<string> classNames, int channels)
    {
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be 1 or 3, got {channels}.");
        if (classNames.Count == 0) throw new ArgumentException("A synthetic set needs at least one class.", nameof(classNames));
        var folders = ClassFolderNames.Assign(classNames);
        root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var name = Path.GetFileName(root);
        var parent = Path.GetDirectoryName(root);
        if (string.IsNullOrEmpty(name) || parent is null)
            throw new UserInputException($"Output folder '{root}' is a file-system root; expected a folder inside one.");
        if (File.Exists(root)) throw new UserInputException($"Output path '{root}' is a file; expected a folder (or nothing) to write the image set into.");
        Directory.CreateDirectory(parent);
        RecoverLeftovers(parent, name, root);

        var temp = Path.Combine(parent, HiddenSibling(name, TempSuffix));
        Directory.CreateDirectory(temp);
        var images = Path.Combine(temp, "images");
        foreach (var f in folders) Directory.CreateDirectory(Path.Combine(images, f));
        return new SyntheticSetWriter(root, temp, classNames, folders, channels);
    }

    /// <summary>Adds an image of class <paramref name="label"/> as the class's next <c>&lt;n&gt;.png</c>; returns its path relative to the root. Thread-safe.</summary>
    public string Add(int label, ByteImage image)
    {
        var relative = Next(label);
        ImageCodec.WritePng(Path.Combine(TempRoot, relative), image.WithChannels(Channels));
        return relative;
    }

    /// <summary>Claims the next <c>images/&lt;class folder&gt;/&lt;n&gt;.png</c> of class <paramref name="label"/>; returns it relative to the root.</summary>
    string Next(int label)
    {
        if ((uint)label >= (uint)ClassNames.Count) throw new ArgumentOutOfRangeException(nameof(label), $"Label {label} is outside 0..{ClassNames.Count - 1}.");
        int n;
        lock (gate)
        {
            ThrowIfClosed();
            n = counts[label]++;
        }
        return Path.Combine("images", ClassFolders[label], $"{n}.png");
    }

    /// <summary>
    /// Adds image <paramref name="index"/> of class <paramref name="label"/> of the committed set at <paramref name="setRoot"/>
    /// (written with the same class names and channels) as this set's next image of the class, copying its PNG file
    /// byte for byte; returns its path relative to the root. Thread-safe.
    /// </summary>
    public string AddCopy(int label, string setRoot, int index)
    {
        if ((uint)label >= (uint)ClassNames.Count) throw new ArgumentOutOfRangeException(nameof(label), $"Label {label} is outside 0..{ClassNames.Count - 1}.");
        var source = Path.Combine(setRoot, "images", ClassFolders[label], $"{index}.png");
        if (!File.Exists(source)) throw new InvalidDataException($"Image set '{setRoot}' has no image {index} of class '{ClassNames[label]}' ({source}).");
        var relative = Next(label);
        File.Copy(source, Path.Combine(TempRoot, relative));
        return relative;
    }

    /// <summary>
    /// Writes manifest.json (the caller's <paramref name="metadata"/> properties, then <c>imageSet</c>: format,
    /// channels, and per class its label, name, folder and count) and moves the set into place.
    /// </summary>
    public void Commit(JsonObject? metadata = null)
    {
        lock (gate)
        {
            ThrowIfClosed();
            var manifest = metadata is null ? new JsonObject() : (JsonObject)metadata.DeepClone();
            if (manifest.ContainsKey(ManifestKey))
                throw new ArgumentException($"Manifest metadata may not contain '{ManifestKey}'; the writer fills it.", nameof(metadata));
            var classes = new JsonArray();
            for (int i = 0; i < ClassNames.Count; i++)
                classes.Add(new JsonObject { ["label"] = i, ["name"] = ClassNames[i], ["folder"] = ClassFolders[i], ["count"] = counts[i] });
            manifest[ManifestKey] = new JsonObject
            {
                ["format"] = Format,
                ["channels"] = Channels,
                ["images"] = counts.Sum(),
                ["classes"] = classes,
            };
            using (var stream = new FileStream(Path.Combine(TempRoot, SyntheticSetReader.ManifestFile), FileMode.CreateNew))
            {
                JsonSerializer.Serialize(stream, manifest, new JsonSerializerOptions { WriteIndented = true });
                stream.Flush(flushToDisk: true);
            }
            MoveIntoPlace(TempRoot, Root);
            committed = true;
        }
    }

    /// <summary>
    /// Publishes the committed set at <paramref name="setDirectory"/> into the output folder <paramref name="output"/> as
    /// <c>images/</c> and <c>manifest.json</c>, with <paramref name="manifestAdditions"/> merged into the set's manifest. The
    /// old manifest goes first and the new one comes last, so a manifest beside the images always describes them; with
    /// <paramref name="move"/> the images are moved instead of copied. Returns the number of images.
    /// </summary>
    public static int Publish(string setDirectory, Output.OutputFolder output, JsonObject? manifestAdditions = null, bool move = false)
    {
        var images = Path.Combine(setDirectory, "images");
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(setDirectory, SyntheticSetReader.ManifestFile)))!.AsObject();
        foreach (var (k, v) in manifestAdditions ?? []) manifest[k] = v?.DeepClone();
        output.Delete(SyntheticSetReader.ManifestFile);
        var published = output.ReplaceDirectory("images", temp =>
        {
            if (move)
            {
                Directory.Delete(temp);
                Directory.Move(images, temp);
            }
            else CopyTree(images, temp);
        });
        output.ReplaceFile(SyntheticSetReader.ManifestFile, temp => File.WriteAllText(temp, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        return Directory.GetFiles(published, "*.png", SearchOption.AllDirectories).Length;
    }

    // The set is evlf's own (a stage's output); links in it are skipped all the same, never followed.
    static void CopyTree(string from, string to)
    {
        var walk = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false };
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", walk))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", walk))
            if (PathStatus.Of(file, followLinks: false).IsRegular) File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    /// <summary>Deletes the temporary folder unless the set was committed.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            if (!committed) TryDelete(TempRoot);
        }
    }

    private void ThrowIfClosed()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (committed) throw new InvalidOperationException($"The image set at '{Root}' is already committed.");
    }

    // Two renames: the old set steps aside, the new one steps in, then the old one is deleted. If the second
    // rename fails the old set is put back; if the process dies between them, RecoverLeftovers restores it.
    private static void MoveIntoPlace(string temp, string root)
    {
        if (!Directory.Exists(root))
        {
            Directory.Move(temp, root);
            return;
        }
        var old = Path.Combine(Path.GetDirectoryName(root)!, HiddenSibling(Path.GetFileName(root), OldSuffix));
        Directory.Move(root, old);
        try
        {
            Directory.Move(temp, root);
        }
        catch
        {
            Directory.Move(old, root);
            throw;
        }
        TryDelete(old);
    }

    private static string HiddenSibling(string name, string suffix) => $".{name}.{Guid.NewGuid().ToString("N")[..12]}{suffix}";

    private static void RecoverLeftovers(string parent, string name, string root)
    {
        foreach (var dir in Directory.EnumerateDirectories(parent, $".{name}.*"))
        {
            if (dir.EndsWith(TempSuffix, StringComparison.Ordinal)) TryDelete(dir);
            else if (dir.EndsWith(OldSuffix, StringComparison.Ordinal))
            {
                if (Directory.Exists(root)) TryDelete(dir);
                else Directory.Move(dir, root); // killed between the two renames: the old set is the last complete one
            }
        }
    }

    private static void TryDelete(string dir) => Output.OutputFolder.TryDelete(dir);
}
