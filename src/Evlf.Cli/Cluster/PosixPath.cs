namespace Evlf.Cli.Cluster;

/// <summary>POSIX paths of the cluster's nodes and containers, worked out on whatever machine renders the job files.</summary>
internal static class PosixPath
{
    /// <summary><paramref name="path"/> made absolute against <paramref name="workingDirectory"/>, with "." and ".." segments resolved.</summary>
    public static string Resolve(string workingDirectory, string path)
    {
        var segments = new List<string>();
        foreach (var segment in (path.StartsWith('/') ? path : workingDirectory + "/" + path).Split('/'))
        {
            if (segment is "" or ".") continue;
            if (segment == "..") { if (segments.Count > 0) segments.RemoveAt(segments.Count - 1); }
            else segments.Add(segment);
        }
        return "/" + string.Join("/", segments);
    }

    /// <summary>Whether absolute <paramref name="path"/> is <paramref name="folder"/> or lies under it.</summary>
    public static bool IsUnder(string path, string folder)
    {
        string root = Resolve("/", folder);
        return root == "/" || path == root || path.StartsWith(root + "/", StringComparison.Ordinal);
    }
}
