using System.Diagnostics;

namespace Evlf.OnnxHybrid.Training;

/// <summary>Where a result came from, as the run records it (pretrain-report.json, a run folder's meta, bench results).</summary>
public static class Provenance
{
    /// <summary>The current git commit of the working directory, or "unknown" outside a repository.</summary>
    public static string GitCommit()
    {
        try
        {
            var psi = new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && s.Length > 0 ? s : "unknown";
        }
        catch { return "unknown"; }
    }
}
