using System.Diagnostics;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>Runs the real `evlf` command as a child process, as a user would.</summary>
public static class EvlfProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "evlf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
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
