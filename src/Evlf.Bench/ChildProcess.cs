using System.Diagnostics;

namespace Evlf.Bench;

/// <summary>
/// A child process of the bench (the Python references, a fresh `evlf distill`): started with its output captured,
/// waited for up to a limit, and stopped with its whole tree when the limit passes or the run is cancelled.
/// </summary>
public static class ChildProcess
{
    /// <summary>What the child left: its exit status and everything it wrote; <see cref="TimedOut"/> when it was stopped at the limit.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr, bool TimedOut);

    /// <summary>The last non-empty line of <paramref name="text"/>, trimmed; null when there is none.</summary>
    public static string? LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();

    /// <summary>
    /// Starts <paramref name="start"/> (its output is redirected here) and waits for it; past <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit) the child's tree is killed and the result says so. Throws
    /// <see cref="System.ComponentModel.Win32Exception"/> when the program cannot be started and
    /// <see cref="OperationCanceledException"/> (after killing the tree) when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static Result Run(ProcessStartInfo start, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        void Kill()
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } // it ended meanwhile
        }
        bool exited;
        using (cancellationToken.Register(Kill))
            exited = process.WaitForExit(timeout);
        if (!exited) Kill();
        process.WaitForExit(); // the redirected streams are complete only after this overload
        cancellationToken.ThrowIfCancellationRequested();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, !exited);
    }
}
