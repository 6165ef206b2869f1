using System.Reflection;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// Where a result came from, as the run records it (a run's manifest, pretrain-report.json, bench results): the library
/// that made it, as built, never the folder the caller happens to run in.
/// </summary>
public static class Provenance
{
    /// <summary>
    /// The library's informational version: the package version, then '+' and the commit it was built from when the
    /// build saw a git repository (the SDK's Source Link adds it), e.g. "0.2.0-preview.1+a8371f3b…".
    /// </summary>
    public static string LibraryVersion { get; } =
        typeof(Provenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Provenance).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The first 7 hex digits of the commit the library was built from, or "unknown" when the build saw none.</summary>
    public static string LibraryCommit { get; } = CommitOf(LibraryVersion);

    /// <summary>The short commit in an informational version "VERSION+COMMIT", or "unknown".</summary>
    public static string CommitOf(string informationalVersion)
    {
        int plus = informationalVersion.IndexOf('+');
        string commit = plus < 0 ? "" : informationalVersion[(plus + 1)..];
        return commit.Length >= 7 && commit.All(Uri.IsHexDigit) ? commit[..7] : "unknown";
    }
}
