using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;

namespace Evlf.OnnxHybrid;

/// <summary>
/// Loads TorchSharp's native backend once, before the library's first tensor, and turns the one failure a build on a
/// GCC-12-era Linux can leave behind into a sentence that names it. TorchSharp 0.107.0's <c>libLibTorchSharp.so</c> needs
/// <see cref="RequiredVersion"/> from libstdc++; the package's build step (buildTransitive/TorchSharpCompat.targets)
/// patches the application's output folder so it loads without it. When that step did not run (skipped, or the output
/// was built elsewhere), TorchSharp itself reports a missing libtorch package, which sends people the wrong way.
/// </summary>
public static partial class TorchSharpLoader
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107.0's native wrapper was linked against (GCC 13).</summary>
    public const string RequiredVersion = "GLIBCXX_3.4.32";

    static readonly object Gate = new();
    static volatile bool loaded;

    /// <summary>
    /// Initialises TorchSharp's CPU backend (a no-op after the first success). Throws <see cref="UserInputException"/>
    /// naming the libstdc++ version found and the fix when the load failed for want of <see cref="RequiredVersion"/>;
    /// other failures pass through unchanged.
    /// </summary>
    public static void Ensure()
    {
        if (loaded) return;
        lock (Gate)
        {
            if (loaded) return;
            // Asked first, the dynamic loader gives the real reason, and TorchSharp's own failure (a page of probing
            // trace on stdout that blames a missing libtorch package) never happens.
            if (LoaderError() is { } loaderError && loaderError.Contains(RequiredVersion, StringComparison.Ordinal))
                throw new UserInputException(Diagnose(loaderError)!);
            try { torch.InitializeDeviceType(DeviceType.CPU); }
            catch (Exception e) when (Diagnose(Messages(e)) is string message) { throw new UserInputException(message, e); }
            loaded = true;
        }
    }

    /// <summary>The sentence for a load that failed because libstdc++ lacks <see cref="RequiredVersion"/>.</summary>
    /// <param name="libStdCxx">The libstdc++ file examined, or null when none was found.</param>
    /// <param name="newestVersion">The newest GLIBCXX_3.4.N it defines, or null when unknown.</param>
    public static string LoadFailureMessage(string? libStdCxx, string? newestVersion)
    {
        string found = (libStdCxx, newestVersion) switch
        {
            (not null, not null) => $"the system libstdc++ ({libStdCxx}) stops at {newestVersion}",
            (not null, null) => $"the system libstdc++ ({libStdCxx}) does not define it",
            _ => "no system libstdc++ defines it",
        };
        return $"TorchSharp could not load its native library libLibTorchSharp.so: it needs {RequiredVersion} (GCC 13) and {found}. "
            + "The build fixes this on Linux when its compat step runs: install g++ (apt-get install g++; patchelf optional) and rebuild "
            + "or republish the application on this machine, without -p:EvlfSkipTorchSharpCompat=true "
            + "(see docs/TROUBLESHOOTING.md, \"TorchSharp fails to load\").";
    }

    /// <summary>The newest <c>GLIBCXX_3.4.N</c> named in a libstdc++ image, or null when it names none.</summary>
    public static string? NewestGlibcxxVersion(ReadOnlySpan<byte> libStdCxxImage)
    {
        int newest = -1;
        foreach (Match m in VersionPattern().Matches(Encoding.Latin1.GetString(libStdCxxImage)))
            newest = Math.Max(newest, int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        return newest < 0 ? null : $"GLIBCXX_3.4.{newest}";
    }

    /// <summary>
    /// Whether a load failure is libstdc++'s: the loader's message names <see cref="RequiredVersion"/>, or the system
    /// libstdc++ is known to stop before it. <paramref name="newestVersion"/> as from <see cref="NewestGlibcxxVersion"/>.
    /// </summary>
    public static bool IsLibStdCxxTooOld(string loaderMessages, string? newestVersion) =>
        loaderMessages.Contains(RequiredVersion, StringComparison.Ordinal)
        || (newestVersion is not null && MinorOf(newestVersion) < MinorOf(RequiredVersion));

    static int MinorOf(string version) => int.Parse(version[(version.LastIndexOf('.') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Why the dynamic loader refuses TorchSharp's native wrapper (found as TorchSharp would find it); null when it loads or on other systems.</summary>
    static string? LoaderError()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            NativeLibrary.Load("libLibTorchSharp.so", typeof(torch).Assembly, null);  // stays loaded: TorchSharp loads it next
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException) { return e.Message; }
    }

    static string Messages(Exception failure)
    {
        var messages = new StringBuilder();
        for (Exception? e = failure; e is not null; e = e.InnerException) messages.AppendLine(e.Message);
        return messages.ToString();
    }

    static string? Diagnose(string loaderMessages)
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? path = SystemLibStdCxx();
        string? newest = null;
        if (path is not null)
        {
            try { newest = NewestGlibcxxVersion(File.ReadAllBytes(path)); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return IsLibStdCxxTooOld(loaderMessages, newest) ? LoadFailureMessage(path, newest) : null;
    }

    /// <summary>The libstdc++ this process has mapped, else the first in the usual library folders.</summary>
    static string? SystemLibStdCxx()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash >= 0 && line.AsSpan(slash).Contains("/libstdc++.so.6", StringComparison.Ordinal)) return line[slash..];
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        string[] folders = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib"];
        return folders.Select(f => Path.Combine(f, "libstdc++.so.6")).FirstOrDefault(File.Exists);
    }

    [GeneratedRegex(@"GLIBCXX_3\.4\.(\d+)(?![\d.])")]
    private static partial Regex VersionPattern();
}
