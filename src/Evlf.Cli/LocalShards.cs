using System.Diagnostics;
using System.Globalization;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Sharding;

namespace Evlf.Cli;

/// <summary>
/// The local executor of a sharded distill (<c>--shards N --workers K</c>): the finishing run, then the shards its stage
/// waits for as K processes at a time, then the finishing run again, until it publishes — what a Slurm job array or a
/// Kubernetes Indexed Job does, wave by wave, on one machine. Each shard is this same command with its
/// <c>--shard-index</c> (and <c>--quiet</c>); a shard that fails is reported and the executor stops, so running the
/// command again re-runs only the shards whose parts are missing.
/// </summary>
internal static class LocalShards
{
    /// <summary>Exit code of a finishing run that waits for shards of which some, not all, have finished.</summary>
    public const int WaitingForShards = 3;

    /// <param name="arguments">The command line as given (the shards get the same, without --workers).</param>
    /// <param name="shards">The number of shards.</param>
    /// <param name="workers">How many shard processes run at once.</param>
    /// <param name="finish">Runs the finishing run in this process.</param>
    public static int Run(IReadOnlyList<string> arguments, int shards, int workers, Func<DistillResult> finish, CancellationToken cancellationToken)
    {
        var shardArguments = WithoutWorkers(arguments);
        string? previous = null;
        while (true)
        {
            var result = finish();
            if (result.Waiting is not { } wait) return 0;
            if (wait.Stage == previous)
            {
                Console.Error.WriteLine($"error: the shards ran, but stage '{wait.Stage}' still waits for shards {string.Join(", ", wait.Missing)}; see their output above.");
                return EvlfApp.InternalError;
            }
            previous = wait.Stage;
            var missing = wait.Missing;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stage {wait.Stage}: running shard{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} of {shards}, {Math.Min(workers, missing.Count)} at a time"));
            var failed = RunShards(shardArguments, missing, workers, shards, cancellationToken);
            if (failed.Count > 0)
            {
                Console.Error.WriteLine($"error: shard{(failed.Count > 1 ? "s" : "")} {string.Join(", ", failed)} of stage '{wait.Stage}' failed; run the same command again to re-run the shards that did not finish.");
                return EvlfApp.InternalError;
            }
        }
    }

    /// <summary>Runs the shards <paramref name="indices"/>, <paramref name="workers"/> at a time; returns those that failed.</summary>
    static List<int> RunShards(IReadOnlyList<string> arguments, IReadOnlyList<int> indices, int workers, int shards, CancellationToken cancellationToken)
    {
        var failed = new List<int>();
        var gate = new object();
        // Each shard gets its share of the cores for libtorch (ONNX Runtime keeps its own default).
        int threads = Math.Max(1, Environment.ProcessorCount / Math.Min(workers, indices.Count));
        Parallel.ForEach(indices, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, index =>
        {
            var clock = Stopwatch.StartNew();
            var (code, errors) = RunShard(arguments, index, threads, cancellationToken);
            lock (gate)
            {
                if (code == 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  shard {index} of {shards}: done in {clock.Elapsed.TotalSeconds:F0} s"));
                    return;
                }
                failed.Add(index);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  shard {index} of {shards}: exit code {code}{(code == 137 || code == -1 ? " (killed)" : "")}"));
                foreach (var line in errors.TakeLast(10)) Console.Error.WriteLine("    " + line);
            }
        });
        failed.Sort();
        return failed;
    }

    static (int Code, List<string> Errors) RunShard(IReadOnlyList<string> arguments, int index, int threads, CancellationToken cancellationToken)
    {
        var (program, prefix) = Self();
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(arguments).Concat(["--shard-index", index.ToString(CultureInfo.InvariantCulture)])) start.ArgumentList.Add(a);
        if (!arguments.Contains("--quiet")) start.ArgumentList.Add("--quiet");
        start.Environment.Remove(ShardSpec.IndexVariables[0]);
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null) start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var errors = new List<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.Add(e.Data); };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        using (cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
            process.WaitForExit();
        return (process.ExitCode, errors);
    }

    /// <summary>How to start this command again: the apphost itself, or <c>dotnet evlf.dll</c>.</summary>
    static (string Program, string[] Prefix) Self()
    {
        string assembly = typeof(LocalShards).Assembly.Location;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == Path.GetFileNameWithoutExtension(assembly)) return (process, []);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
        return (dotnet, [assembly]);
    }

    /// <summary><paramref name="arguments"/> without <c>--workers K</c> (or <c>--workers=K</c>).</summary>
    internal static List<string> WithoutWorkers(IReadOnlyList<string> arguments)
    {
        var kept = new List<string>();
        for (int i = 0; i < arguments.Count; i++)
        {
            if (arguments[i] == "--workers") { i++; continue; }
            if (arguments[i].StartsWith("--workers=", StringComparison.Ordinal)) continue;
            kept.Add(arguments[i]);
        }
        return kept;
    }
}
