namespace Evlf.OnnxHybrid.Tests.Cli.Cluster;

/// <summary>
/// `evlf cluster slurm` through the real process: the scripts it writes, bash's syntax check of each, submit.sh against a
/// fake sbatch (the chain of dependencies, wave after wave), and the sbatch scripts run as Slurm would run them against a
/// fake evlf (the exact arguments, quoting included). tools/ci/slurm.sh runs them on a real one-node Slurm.
/// </summary>
public class ClusterSlurmTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-cluster-slurm-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static EvlfProcess.Result Ok(EvlfProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        return r;
    }

    // A run folder and a data path with a space and a single quote: the words bash must keep whole.
    string RunFolder => Path.Combine(root, "it's a run");
    string[] Distill => ["--method", "mgd3", "--ipc", "1", "--data", "folder:/data/my set", "--out", RunFolder];

    string Jobs => Path.Combine(root, "jobs");

    string Render(params string[] options)
    {
        var r = Ok(EvlfProcess.Run(["cluster", "slurm", "--out", Jobs, "--workdir", root, .. options, "--", .. Distill]));
        Assert.Contains("submit.sh", r.Stdout);
        return Jobs;
    }

    [Fact]
    public void TheScriptsAskSlurmForAnArrayOfShardsThatRequeuesAndPassResourcesThrough()
    {
        Render("--shards", "8", "--parallel", "3", "--partition", "gpu", "--account", "lab", "--time", "2:00:00", "--cpus-per-task", "4", "--mem", "32G", "--gres", "gpu:1", "--name", "fmnist");
        var shards = File.ReadAllLines(Path.Combine(Jobs, "shards.sbatch"));
        var finish = File.ReadAllLines(Path.Combine(Jobs, "finish.sbatch"));
        Assert.Equal("#!/bin/bash", shards[0]);
        Assert.Equal("#!/bin/bash", finish[0]);
        Assert.Contains("#SBATCH --array=0-7%3", shards);
        Assert.DoesNotContain(finish, l => l.StartsWith("#SBATCH --array", StringComparison.Ordinal));
        Assert.Contains("#SBATCH --job-name=fmnist-shards", shards);
        Assert.Contains("#SBATCH --job-name=fmnist-finish", finish);
        Assert.Contains("#SBATCH --output=logs/%x-%A_%a.log", shards);
        Assert.Contains("#SBATCH --output=logs/%x-%j.log", finish);
        foreach (var script in new[] { shards, finish })
        {
            foreach (var line in new[] { "--requeue", "--kill-on-invalid-dep=yes", "--partition=gpu", "--account=lab", "--time=2:00:00", "--cpus-per-task=4", "--mem=32G", "--gres=gpu:1" })
                Assert.Contains("#SBATCH " + line, script);
            // sbatch reads #SBATCH lines only before the first command.
            int firstCommand = Array.FindIndex(script, l => l.Length > 0 && !l.StartsWith('#'));
            Assert.True(Array.FindLastIndex(script, l => l.StartsWith("#SBATCH", StringComparison.Ordinal)) < firstCommand);
        }
        Assert.True(File.GetUnixFileMode(Path.Combine(Jobs, "submit.sh")).HasFlag(UnixFileMode.UserExecute));
        foreach (var file in new[] { "shards.sbatch", "finish.sbatch", "submit.sh" })
        {
            var syntax = Shell.Bash(null, "-n", Path.Combine(Jobs, file));
            Assert.True(syntax.ExitCode == 0, $"bash -n {file}: {syntax.Stderr}");
        }
    }

    [Fact]
    public void WithoutResourcesThereAreNoResourceLinesAndTheArrayRunsEveryShardAtOnce()
    {
        Render("--shards", "4");
        var shards = File.ReadAllLines(Path.Combine(Jobs, "shards.sbatch"));
        Assert.Contains("#SBATCH --array=0-3%4", shards);
        Assert.Contains("#SBATCH --job-name=evlf-shards", shards);
        Assert.DoesNotContain(shards, l => l.StartsWith("#SBATCH --partition", StringComparison.Ordinal) || l.StartsWith("#SBATCH --gres", StringComparison.Ordinal));
        // --parallel above --shards is the same as --shards.
        Render("--shards", "4", "--parallel", "9");
        Assert.Contains("#SBATCH --array=0-3%4", File.ReadAllLines(Path.Combine(Jobs, "shards.sbatch")));
    }

    [Fact]
    public void EachScriptRunsEvlfWithTheDistillArgumentsExactlyAndItsShardFlags()
    {
        string evlf = Shell.ArgumentRecorder(Path.Combine(root, "bin"), "fake evlf", Path.Combine(root, "argv"));
        Render("--shards", "3", "--evlf", evlf);
        Assert.Contains("'folder:/data/my set'", File.ReadAllText(Path.Combine(Jobs, "shards.sbatch")));

        Assert.True(Shell.Bash(null, Path.Combine(Jobs, "shards.sbatch")).ExitCode == 0);
        Assert.Equal(["distill", .. Distill, "--shards", "3", "--shard-index", "auto"], Shell.Recorded(Path.Combine(root, "argv")));
        Assert.True(Shell.Bash(null, Path.Combine(Jobs, "finish.sbatch")).ExitCode == 0);
        Assert.Equal(["distill", .. Distill, "--shards", "3"], Shell.Recorded(Path.Combine(root, "argv")));
    }

    [Theory]
    [InlineData("mgd3", 3)]        // encode, fuse (EVLF), sample
    [InlineData("dit", 2)]         // encode, sample
    [InlineData("random", 1)]      // the finishing run alone does the work; its shards have nothing to do
    public void SubmitShChainsOneWavePerShardedStageEachJobAfterTheOneBefore(string method, int waves)
    {
        // A fake sbatch: records its arguments, answers with the next job id (with a cluster name, as --parsable may).
        string bin = Path.Combine(root, "bin");
        Shell.Script(bin, "sbatch", $"""
            n=$(( $(cat '{root}/count' 2>/dev/null || echo 100) + 1 ))
            echo $n > '{root}/count'
            echo "$*" >> '{root}/sbatch.log'
            echo "$n;cluster1"
            """);
        Ok(EvlfProcess.Run(["cluster", "slurm", "--shards", "2", "--out", Jobs, "--", "--method", method, "--out", RunFolder]));
        var r = Shell.Bash(bin, Path.Combine(Jobs, "submit.sh"), "--qos=long");
        Assert.True(r.ExitCode == 0, r.Stderr);

        var calls = File.ReadAllLines(Path.Combine(root, "sbatch.log"));
        Assert.Equal(2 * waves, calls.Length);
        for (int wave = 0; wave < waves; wave++)
        {
            int shardsId = 101 + 2 * wave, finishId = shardsId + 1;
            Assert.Equal(wave == 0 ? "--parsable --qos=long shards.sbatch" : $"--parsable --qos=long --dependency=afterok:{shardsId - 1} shards.sbatch", calls[2 * wave]);
            Assert.Equal($"--parsable --qos=long --dependency=afterok:{shardsId} finish.sbatch", calls[2 * wave + 1]);
            Assert.Contains($"wave {wave + 1} of {waves}: shards job {shardsId}, finishing job {finishId}", r.Stdout);
        }
        Assert.True(Directory.Exists(Path.Combine(Jobs, "logs")));
    }

    [Fact]
    public void SubmitShStopsWhenSbatchRefusesAJob()
    {
        string bin = Path.Combine(root, "bin");
        Shell.Script(bin, "sbatch", $"""
            echo "$*" >> '{root}/sbatch.log'
            case "$*" in *finish.sbatch*) echo "sbatch: error: Batch job submission failed: Invalid account" >&2; exit 1;; esac
            echo 7
            """);
        Render("--shards", "2");
        var r = Shell.Bash(bin, Path.Combine(Jobs, "submit.sh"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(root, "sbatch.log")).Length);
    }

    [Fact]
    public void ItRefusesAFolderThatHoldsFilesEvlfDidNotWriteAndReplacesOnlyItsOwn()
    {
        Directory.CreateDirectory(Jobs);
        File.WriteAllText(Path.Combine(Jobs, "submit.sh"), "mine");
        var refused = EvlfProcess.Run(["cluster", "slurm", "--shards", "2", "--out", Jobs, "--", "--out", RunFolder]);
        Assert.Contains("already holds files evlf did not write", EvlfProcess.AssertUserError(refused));
        // With --force it writes beside the user's files, and still never replaces one.
        var forced = EvlfProcess.Run(["cluster", "slurm", "--shards", "2", "--out", Jobs, "--force", "--", "--out", RunFolder]);
        Assert.Contains("was not written by evlf", EvlfProcess.AssertUserError(forced));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(Jobs, "submit.sh")));

        // Its own files it replaces: a second rendering overwrites the first.
        string other = Path.Combine(root, "other");
        Ok(EvlfProcess.Run(["cluster", "slurm", "--shards", "2", "--out", other, "--", "--out", RunFolder]));
        Ok(EvlfProcess.Run(["cluster", "slurm", "--shards", "5", "--out", other, "--", "--out", RunFolder]));
        Assert.Contains("#SBATCH --array=0-4%5", File.ReadAllLines(Path.Combine(other, "shards.sbatch")));
        Assert.Empty(Directory.GetFiles(other, "*.tmp"));
    }
}
