using Evlf.OnnxHybrid.Output;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Walks a dataset folder the safe way: only regular files are taken (a FIFO named x.png would block the reader
/// forever), folder links are never followed (no loops, no escape from the dataset), file links are taken only when
/// they resolve to a regular file inside the dataset folder, and hidden entries are passed over. Everything passed
/// over is recorded in <see cref="Skipped"/> with its reason, for one warning.
/// </summary>
internal sealed class FolderWalk
{
    readonly string root;
    readonly string realRoot;
    readonly List<SkippedEntry> skipped = new();

    /// <param name="root">The dataset folder: what links must stay inside and what skipped paths are shown relative to.</param>
    public FolderWalk(string root)
    {
        this.root = Path.GetFullPath(root);
        realRoot = ResolvedPath.Of(root);
    }

    public IReadOnlyList<SkippedEntry> Skipped => skipped;

    enum Entry { Folder, File, Skip }

    /// <summary>
    /// A subfolder of the root that the layout requires (train/, val/): it may itself be a link, but only to a folder
    /// inside the root; null when it is absent.
    /// </summary>
    public string? SplitFolder(string name)
    {
        var path = Path.Combine(root, name);
        var status = PathStatus.Of(path, followLinks: false);
        if (status.Kind == PathKind.Directory) return path;
        if (status.Kind != PathKind.Link || PathStatus.Of(path).Kind != PathKind.Directory) return null;
        var target = ResolvedPath.Of(path);
        if (!ResolvedPath.IsSameOrInside(target, realRoot))
            throw new UserInputException(
                $"Image folder '{path}' is a link to '{target}', outside '{root}'; evlf does not follow folder links out of a dataset, so point the data spec at the folder that really holds {name}/.");
        return path;
    }

    /// <summary>The real (not linked, not hidden) subfolders of <paramref name="dir"/>, sorted ordinally; other entries are skipped as <paramref name="looseEntryReason"/>.</summary>
    public IReadOnlyList<string> Folders(string dir, string looseEntryReason)
    {
        var folders = new List<string>();
        foreach (var (path, kind) in List(dir))
            if (kind == Entry.Folder) folders.Add(Path.GetFileName(path));
            else if (kind == Entry.File) Skip(path, looseEntryReason);
        folders.Sort(StringComparer.Ordinal);
        return folders;
    }

    /// <summary>Whether <paramref name="dir"/> is a real folder (not a link); a link is recorded as skipped.</summary>
    public bool IsRealFolder(string dir)
    {
        var status = PathStatus.Of(dir, followLinks: false);
        if (status.Kind == PathKind.Directory) return true;
        if (status.Kind == PathKind.Link) Skip(dir, "folder link, not followed");
        return false;
    }

    /// <summary>Image files under <paramref name="dir"/>, recursively, in torchvision's order (folders by path, then names, ordinal).</summary>
    public IReadOnlyList<string> ImageFiles(string dir)
    {
        var dirs = new List<string> { dir };
        var files = new Dictionary<string, List<string>>();
        for (int i = 0; i < dirs.Count; i++)
        {
            var list = files[dirs[i]] = new List<string>();
            foreach (var (path, kind) in List(dirs[i]))
            {
                if (kind == Entry.Folder) dirs.Add(path);
                else if (kind == Entry.File)
                {
                    if (ImageCodec.Extensions.Contains(Path.GetExtension(path))) list.Add(path);
                    else Skip(path, $"not a {string.Join("/", ImageCodec.Extensions.Order(StringComparer.Ordinal))} image");
                }
            }
        }
        dirs.Sort(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var d in dirs) result.AddRange(files[d].Order(StringComparer.Ordinal));
        return result;
    }

    /// <summary>The entries of <paramref name="dir"/> sorted into folders to enter, files to consider and things to skip (recorded).</summary>
    List<(string Path, Entry Kind)> List(string dir)
    {
        var entries = new List<(string, Entry)>();
        IEnumerable<string> names;
        try
        {
            names = Directory.EnumerateFileSystemEntries(dir).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Path.GetFullPath(dir) == root) throw new UserInputException($"Image folder '{dir}' could not be listed: {e.Message}", e);
            Skip(dir, $"could not be listed: {e.Message.TrimEnd('.')}");
            return entries;
        }
        foreach (var path in names)
        {
            var kind = Classify(path, out var reason);
            if (kind == Entry.Skip) Skip(path, reason!);
            else entries.Add((path, kind));
        }
        return entries;
    }

    Entry Classify(string path, out string? reason)
    {
        reason = null;
        if (Path.GetFileName(path).StartsWith('.'))
        {
            reason = "hidden";
            return Entry.Skip;
        }
        var status = PathStatus.Of(path, followLinks: false);
        switch (status.Kind)
        {
            case PathKind.Directory: return Entry.Folder;
            case PathKind.Regular: return Entry.File;
            case PathKind.Special:
                reason = "FIFO, socket or device, not a regular file";
                return Entry.Skip;
            case PathKind.Missing:
                reason = "vanished while the folder was read";
                return Entry.Skip;
        }
        // A link: folders are never followed; a file only when it stays inside the dataset.
        var target = PathStatus.Of(path);
        if (target.Kind == PathKind.Directory) reason = "folder link, not followed";
        else if (target.Kind == PathKind.Missing) reason = "broken link";
        else if (target.Kind != PathKind.Regular) reason = "link to a FIFO, socket or device";
        else if (ResolvedPath.Of(path) is var resolved && !ResolvedPath.IsSameOrInside(resolved, realRoot))
            reason = $"link to '{resolved}', outside the dataset folder";
        return reason is null ? Entry.File : Entry.Skip;
    }

    void Skip(string path, string reason) => skipped.Add(new SkippedEntry(Path.GetRelativePath(root, path), reason));
}
