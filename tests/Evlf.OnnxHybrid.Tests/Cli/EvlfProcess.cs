using System.Diagnostics;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>Runs the real `evlf` command as a child process, as a user would.</summary>
public static class EvlfProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunWith(null, args);

    /// <summary>Starts `evlf ARGS` (with <paramref name="environment"/> added) without waiting: the caller reads, waits or kills.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "evlf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>Runs `evlf ARGS` with <paramref name="environment"/> added to the child's environment.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var p = Start(environment, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(true);
            throw new TimeoutException($"evlf {string.Join(" ", args)} did not finish in 5 minutes");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A user error: exit 2 and exactly one non-empty line on stderr, no stack trace.</summary>
    public static string AssertUserError(Result r)
    {
        Assert.True(r.ExitCode == 2, $"expected exit 2, got {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.DoesNotMatch(@"\bat [\w.`<>]+\(", lines[0]);   // a stack frame
        Assert.DoesNotContain("Exception", lines[0]);
        return lines[0];
    }
}
