using System.Diagnostics;

namespace Evlf.OnnxHybrid.Tests.Cli.Cluster;

/// <summary>Runs bash, as the scripts evlf cluster writes are run, with fake scheduler commands first on PATH.</summary>
static class Shell
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>bash ARGS, with <paramref name="path"/> before PATH when given.</summary>
    public static Result Bash(string? path, params string[] args) =>
        BashWith(path is null ? new Dictionary<string, string>() : new() { ["PATH"] = path + ":" + Environment.GetEnvironmentVariable("PATH") }, args);

    /// <summary>bash ARGS with <paramref name="environment"/>'s variables set (the rest inherited).</summary>
    public static Result BashWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            p.Kill(true);
            throw new TimeoutException($"bash {string.Join(" ", args)} did not finish in a minute");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Writes an executable bash script <paramref name="name"/> into <paramref name="folder"/>.</summary>
    public static string Script(string folder, string name, string body)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>A fake program that writes its arguments, NUL-terminated, to <paramref name="record"/> and exits 0.</summary>
    public static string ArgumentRecorder(string folder, string name, string record) =>
        Script(folder, name, $"printf '%s\\0' \"$@\" > '{record}'\n");

    /// <summary>The NUL-terminated arguments an <see cref="ArgumentRecorder"/> wrote.</summary>
    public static string[] Recorded(string record) => File.ReadAllText(record).Split('\0')[..^1];
}
