namespace Evlf.OnnxHybrid.Output;

/// <summary>
/// Paths compared as the file system sees them: absolute, with every symbolic link of the part that exists resolved, so
/// that <c>runs/../data</c>, a link to a folder and the folder itself compare equal. Used to keep outputs and inputs apart.
/// </summary>
public static class ResolvedPath
{
    static readonly StringComparison Comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>
    /// The absolute path of <paramref name="path"/> with the links of its existing part resolved; the part that does not
    /// exist yet is appended as written.
    /// </summary>
    public static string Of(string path) => Of(path, depth: 0);

    static string Of(string path, int depth)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.GetPathRoot(full)!;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        string current = root;
        for (int i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = new FileInfo(next);
            if (info.LinkTarget is null && !info.Exists)
            {
                info = new DirectoryInfo(next);
                if (!info.Exists) return Path.Combine([current, .. parts[i..]]);
            }
            if (info.LinkTarget is not null && depth < 40)
            {
                FileSystemInfo? target = null;
                try
                {
                    target = info.ResolveLinkTarget(returnFinalTarget: true);
                }
                catch (IOException) { } // a loop of links: compare it as written
                // The final target is no link, but the folders above it may be.
                if (target is not null) next = Of(target.FullName, depth + 1);
            }
            current = next;
        }
        return current;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or lies inside it (both already resolved).</summary>
    public static bool IsSameOrInside(string path, string folder)
    {
        folder = Path.TrimEndingDirectorySeparator(folder);
        path = Path.TrimEndingDirectorySeparator(path);
        if (path.Equals(folder, Comparison)) return true;
        var prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, Comparison);
    }
}
