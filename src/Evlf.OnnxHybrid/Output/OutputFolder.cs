using System.Text.Json;
using System.Text.Json.Nodes;

namespace Evlf.OnnxHybrid.Output;

/// <summary>
/// A folder evlf writes into, and the rule that keeps users' files safe there: evlf replaces or deletes only the entries it
/// wrote itself. A folder evlf creates (or finds empty) gets a small marker file, <see cref="MarkerFile"/>, that lists the
/// entries evlf put in it; a folder that holds anything else is refused unless the caller passes <c>force</c>, and even
/// then evlf only adds its own entries beside the user's files and refuses to replace an entry of the same name that it
/// did not write. With <c>exclusive</c> the folder is also locked (<see cref="FolderLock"/>) until disposed, so two runs
/// cannot write one folder at once. Entries are replaced through a hidden temporary sibling and renames, so an entry is
/// whole or absent; temporaries of a killed run are cleaned up by the next one.
/// </summary>
public sealed class OutputFolder : IDisposable
{
    /// <summary>The marker that says evlf owns a folder and which entries of it evlf wrote.</summary>
    public const string MarkerFile = ".evlf-output.json";

    /// <summary>Value of the marker's <c>format</c>.</summary>
    public const string MarkerFormat = "evlf-output/1";

    /// <summary>The lock processes sharing a folder take while they update its marker (housekeeping: it starts with <see cref="FolderLock.FolderLockFile"/>).</summary>
    const string MarkerLockFile = FolderLock.FolderLockFile + ".marker";

    const string TempSuffix = ".evlf-tmp";
    const string OldSuffix = ".evlf-old";

    /// <summary>
    /// What evlf wrote into run folders before they carried a marker: a folder whose manifest.json is an evlf image set
    /// (<see cref="Data.SyntheticSetWriter.Format"/>) is adopted with those of these names it holds.
    /// </summary>
    static readonly string[] LegacyRunEntries =
        ["images", "manifest.json", ".stages", "eval.json", ".eval.partial.json", "fusion.onnx", "projector.onnx", "fusion-log.json", "fusion-test.json"];

    /// <summary>
    /// Recognises a folder evlf wrote before folders carried a marker, and names the entries of it that are evlf's; null
    /// when the folder is not such a one.
    /// </summary>
    public delegate IEnumerable<string>? LegacyRule(string folder);

    /// <summary>The legacy rule of run folders: an evlf image set's manifest.json, with the run entries it holds.</summary>
    public static IEnumerable<string>? LegacyRun(string folder) => IsLegacyRun(folder) ? LegacyRunEntries : null;

    readonly SortedSet<string> entries;
    readonly FolderLock? folderLock;
    readonly JsonObject marker;

    OutputFolder(string path, SortedSet<string> entries, JsonObject marker, FolderLock? folderLock)
    {
        Path = path;
        this.entries = entries;
        this.marker = marker;
        this.folderLock = folderLock;
    }

    /// <summary>The folder (absolute).</summary>
    public string Path { get; }

    /// <summary>The entries (top-level names) evlf wrote here and may replace.</summary>
    public IReadOnlyCollection<string> Entries => entries;

    /// <summary>
    /// Opens <paramref name="path"/> for <paramref name="command"/>'s outputs: creates it if missing; accepts it if evlf marked
    /// it, if it is empty, or with <paramref name="force"/>; otherwise throws a <see cref="UserInputException"/> naming what it
    /// holds. Messages name the folder and the force switch by <paramref name="option"/> and <paramref name="forceOption"/>
    /// (library option names such as <c>DistillOptions.Out</c>, which a front end renames: <see cref="UserInputException.MessageNaming"/>).
    /// </summary>
    /// <param name="path">The output folder.</param>
    /// <param name="command">The evlf command writing it (recorded in the marker and the lock).</param>
    /// <param name="force">Accept a folder that holds files evlf did not write; they are left alone.</param>
    /// <param name="exclusive">Hold the folder's lock while this object lives (one run per folder).</param>
    /// <param name="option">The option that named the folder, for messages.</param>
    /// <param name="forceOption">The option that sets <paramref name="force"/>, for messages.</param>
    /// <param name="ownedByPattern">Names that are evlf's wherever they are found (a stage cache's stage folders).</param>
    /// <param name="legacy">How to recognise this kind of folder written before markers (default <see cref="LegacyRun"/>).</param>
    public static OutputFolder Open(string path, string command, bool force = false, bool exclusive = true, string option = "Output folder",
        Func<string, bool>? ownedByPattern = null, LegacyRule? legacy = null, string forceOption = "force")
    {
        var full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        if (System.IO.Path.GetPathRoot(full) == full || full == System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetPathRoot(full)!))
            throw UserInputException.ForOptions($"{option} '{path}' is a file-system root; expected a folder for evlf's outputs.", [option]);
        if (File.Exists(full))
            throw UserInputException.ForOptions($"{option} '{path}' is a file; expected a folder (or nothing) for evlf's outputs.", [option]);

        JsonObject? existing = null;
        var entries = new SortedSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(full))
        {
            existing = ReadMarker(full);
            if (existing is not null)
            {
                foreach (var e in existing["entries"]?.AsArray() ?? [])
                    if (e?.GetValue<string>() is string name) entries.Add(name);
            }
            else
            {
                var foreign = Listing(full).Where(n => !IsHousekeeping(n) && ownedByPattern?.Invoke(n) != true).ToList();
                if ((legacy ?? LegacyRun)(full) is { } adopted)
                    entries.UnionWith(foreign.Intersect(adopted));
                else if (foreign.Count > 0 && !force)
                    throw UserInputException.ForOptions(
                        $"{option} '{path}' already holds files evlf did not write ({Sample(foreign)}); choose a new or empty folder, or pass {forceOption} to add evlf's outputs beside them (evlf never deletes what it did not write).",
                        [option, forceOption]);
            }
        }
        else
        {
            try
            {
                Directory.CreateDirectory(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw UserInputException.ForOptions($"{option} '{path}' cannot be created: {UserInputException.OneLine(e.Message)}", [option], e);
            }
        }

        var marker = existing ?? new JsonObject
        {
            ["format"] = MarkerFormat,
            ["createdBy"] = "evlf " + command,
            ["created"] = DateTime.UtcNow.ToString("O"),
        };
        FolderLock? folderLock = null;
        try
        {
            var folder = new OutputFolder(full, entries, marker, null);
            // Also proves the folder is writable before any work. A process that shares the folder (a shard, a stage
            // cache) leaves an existing marker alone: rewriting it could drop entries the locking process adds meanwhile.
            if (exclusive || existing is null) folder.SaveMarker();
            if (exclusive)
            {
                folderLock = FolderLock.AcquireFolder(full, "evlf " + command, option);
                folder = new OutputFolder(full, entries, marker, folderLock);
                folder.CleanLeftovers();
            }
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            folderLock?.Dispose();
            throw new UserInputException($"{option} '{path}' cannot be written: {UserInputException.OneLine(e.Message)}", e);
        }
    }

    /// <summary>The marker of <paramref name="folder"/>, or null when it has none (or an unreadable one).</summary>
    public static JsonObject? ReadMarker(string folder)
    {
        var path = System.IO.Path.Combine(folder, MarkerFile);
        if (!File.Exists(path)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            return node?["format"]?.GetValue<string>() == MarkerFormat ? node : null;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether evlf marked <paramref name="folder"/> as its own, or wrote it before markers (an evlf image set).</summary>
    public static bool IsOwned(string folder, LegacyRule? legacy = null) => ReadMarker(folder) is not null || (legacy ?? LegacyRun)(folder) is not null;

    /// <summary>
    /// Claims <paramref name="name"/> for evlf's output: allowed when it does not exist or evlf wrote it. Throws a
    /// <see cref="UserInputException"/> for an entry of that name that evlf did not write. Returns the entry's path.
    /// </summary>
    public string Reserve(string name)
    {
        if (name.Contains(System.IO.Path.DirectorySeparatorChar) || name.Contains(System.IO.Path.AltDirectorySeparatorChar) || name is "" or "." or "..")
            throw new ArgumentException($"'{name}' is not a top-level entry name.", nameof(name));
        var path = System.IO.Path.Combine(Path, name);
        if (entries.Contains(name)) return path;
        // A process sharing the folder (another shard) may have claimed and made the entry since this one opened the
        // folder. It saves the marker before it makes the entry, so the marker is read only after the entry is seen.
        bool exists = File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;
        if (exists && !(folderLock is null && OnDisk().Contains(name)))
            throw new UserInputException($"'{path}' exists and was not written by evlf; move it away or choose another output folder (evlf never replaces what it did not write).");
        entries.Add(name);
        if (!exists) SaveMarker();
        return path;
    }

    /// <summary>Replaces the folder <paramref name="name"/> with what <paramref name="fill"/> writes into the empty folder it is given.</summary>
    public string ReplaceDirectory(string name, Action<string> fill)
    {
        var target = Reserve(name);
        var temp = HiddenSibling(name, TempSuffix);
        Directory.CreateDirectory(temp);
        try
        {
            fill(temp);
            Swap(temp, target);
        }
        finally
        {
            TryDelete(temp);
        }
        return target;
    }

    /// <summary>Replaces the file <paramref name="name"/> atomically with what <paramref name="write"/> writes to the temporary path it is given.</summary>
    public string ReplaceFile(string name, Action<string> write)
    {
        var target = Reserve(name);
        if (Directory.Exists(target)) Remove(target);
        AtomicFile.WriteVia(target, write);
        return target;
    }

    /// <summary>Deletes the entry <paramref name="name"/> if evlf wrote it (a no-op when it is absent).</summary>
    public void Delete(string name)
    {
        Remove(Reserve(name));
    }

    /// <summary>
    /// A fresh hidden temporary folder inside this one for work in progress (deleted by the caller when done, or by the
    /// next run of this folder if the process dies).
    /// </summary>
    public string Staging(string name)
    {
        var path = HiddenSibling(name, TempSuffix);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A subfolder for evlf's own bookkeeping (stage caches, checkpoints), created if missing.</summary>
    public string Subfolder(string name)
    {
        var path = Reserve(name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Releases the folder's lock.</summary>
    public void Dispose() => folderLock?.Dispose();

    /// <summary>The entries the marker on disk lists now.</summary>
    IEnumerable<string> OnDisk() =>
        (ReadMarker(Path)?["entries"] as JsonArray ?? []).Select(e => e is JsonValue v && v.TryGetValue<string>(out var n) ? n : null).OfType<string>();

    void SaveMarker()
    {
        // Without the folder's lock other processes may add entries meanwhile: keep theirs, reading and writing the marker
        // under a lock of its own so that two processes saving at once cannot drop each other's entries.
        using var markerLock = folderLock is null
            ? FolderLock.Wait(System.IO.Path.Combine(Path, MarkerLockFile), "evlf, saving the output marker", null, CancellationToken.None)
            : null;
        if (markerLock is not null) entries.UnionWith(OnDisk());
        marker["entries"] = new JsonArray(entries.Select(e => (JsonNode)e).ToArray());
        AtomicFile.WriteJson(System.IO.Path.Combine(Path, MarkerFile), marker);
    }

    // Two renames: the old entry steps aside, the new one steps in, then the old one is deleted. If the second rename
    // fails the old entry is put back; if the process dies between them, CleanLeftovers restores it.
    static void Swap(string temp, string target)
    {
        if (!Directory.Exists(target) && !File.Exists(target))
        {
            Directory.Move(temp, target);
            return;
        }
        var parent = System.IO.Path.GetDirectoryName(target)!;
        var old = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid().ToString("N")[..12]}{OldSuffix}");
        if (File.Exists(target)) File.Move(target, old);
        else Directory.Move(target, old);
        try
        {
            Directory.Move(temp, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }
        TryDelete(old);
    }

    /// <summary>Removes what a killed run of this folder left half-done: temporaries, and entries set aside but not replaced.</summary>
    void CleanLeftovers()
    {
        foreach (var name in Listing(Path))
        {
            if (!name.StartsWith('.')) continue;
            var path = System.IO.Path.Combine(Path, name);
            if (name.EndsWith(TempSuffix, StringComparison.Ordinal)) TryDelete(path);
            else if (name.EndsWith(OldSuffix, StringComparison.Ordinal))
            {
                // ".<entry>.<id>.evlf-old": killed between the two renames, the old entry is the last complete one.
                var entry = name[1..^OldSuffix.Length];
                entry = entry[..entry.LastIndexOf('.')];
                var target = System.IO.Path.Combine(Path, entry);
                if (entries.Contains(entry) && !Directory.Exists(target) && !File.Exists(target))
                {
                    if (Directory.Exists(path)) Directory.Move(path, target);
                    else File.Move(path, target);
                }
                else TryDelete(path);
            }
        }
    }

    string HiddenSibling(string name, string suffix) => System.IO.Path.Combine(Path, $".{name}.{Guid.NewGuid().ToString("N")[..12]}{suffix}");

    // The lock, the marker and their own temporary files (a hidden sibling: "." + name + "." + id): evlf's, whoever's
    // folder it is. A shard that opens the folder while another writes its lock's holder sees that holder's temporary file.
    static bool IsHousekeeping(string name) => name == MarkerFile ||
        name.StartsWith(FolderLock.FolderLockFile, StringComparison.Ordinal) || name.StartsWith("." + FolderLock.FolderLockFile, StringComparison.Ordinal) ||
        name.StartsWith("." + MarkerFile + ".", StringComparison.Ordinal);

    static bool IsLegacyRun(string folder)
    {
        var manifest = System.IO.Path.Combine(folder, "manifest.json");
        if (!File.Exists(manifest)) return false;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(manifest));
            return node?[Data.SyntheticSetWriter.ManifestKey]?["format"]?.GetValue<string>() == Data.SyntheticSetWriter.Format;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    static List<string> Listing(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(p => System.IO.Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList();

    static string Sample(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(3).Select(n => $"'{n}'")) + (names.Count > 3 ? $" and {names.Count - 3} more" : "");

    // A link is removed itself, never followed.
    static void Remove(string path)
    {
        if (new FileInfo(path).LinkTarget is not null || File.Exists(path)) File.Delete(path);
        else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// Deletes a file, a folder or a link (the link itself, never what it points to), ignoring failures: for temporaries such
    /// as a <see cref="Staging"/> folder, which the next run removes anyway.
    /// </summary>
    public static void TryDelete(string path)
    {
        try
        {
            Remove(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
