using System.Diagnostics;
using Evlf.OnnxHybrid.Tests.Bundles;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>
/// `evlf distill --shards` as a scheduler runs it: each shard a separate process (an array task or a pod), one of them
/// killed with SIGKILL mid-part and run again alone, then the finishing run — the same images as one process; and the
/// local executor (`--workers`) doing all of it.
/// </summary>
public class ShardedRunTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-shard-cli-").FullName;
    readonly string bundle;
    readonly string data;

    public ShardedRunTests()
    {
        bundle = TinyBundle.Create(Path.Combine(root, "bundle"), withUNet: true);
        // 600 training images: two units of encoding (500 + 100 rows per view), so both shards encode.
        data = "folder:" + TinyBundle.Dataset(Path.Combine(root, "data"), perClass: 200);
    }

    public void Dispose() => Directory.Delete(root, true);

    string[] Args(string name, params string[] extra) =>
        ["distill", "--bundle", bundle, "--data", data, "--method", "mgd3", "--no-evlf", "--ipc", "6", "--steps", "400", "--seed", "3",
         "--out", Path.Combine(root, name), "--quiet", .. extra];

    static EvlfProcess.Result Ok(EvlfProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        return r;
    }

    void AssertSameImages(string expected, string actual)
    {
        var files = Directory.GetFiles(Path.Combine(root, expected, "images"), "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.Equal(18, files.Length);
        foreach (var f in files)
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(root, actual, Path.GetRelativePath(Path.Combine(root, expected), f))));
    }

    [Fact]
    public void ShardsAsProcessesWithOneKilledAndRetriedGiveTheImagesOfOneProcess()
    {
        Ok(EvlfProcess.Run(Args("one")));

        // Wave 1: the finishing run finds nothing to merge; the two shards encode.
        Assert.Contains("none has run it yet", Ok(EvlfProcess.Run(Args("split", "--shards", "2"))).Stdout);
        Ok(EvlfProcess.Run(Args("split", "--shards", "2", "--shard-index", "0")));
        Ok(EvlfProcess.RunWith(new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "1" }, Args("split", "--shards", "2", "--shard-index", "auto")));
        // The finishing run merges, clusters, and stops at sampling.
        Assert.Contains("stage 'sample'", Ok(EvlfProcess.Run(Args("split", "--shards", "2"))).Stdout);

        // Wave 2: shard 1 is killed while it samples; shard 0 finishes.
        string stages = Path.Combine(root, "split", ".stages");
        using (var killed = EvlfProcess.Start(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "1" }, Args("split", "--shards", "2", "--shard-index", "auto")))
        {
            var clock = Stopwatch.StartNew();
            while (!killed.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)
                   && !Directory.EnumerateDirectories(stages, "sample-*.part-1-of-2.tmp-*").Any()) Thread.Sleep(5);
            Assert.False(killed.HasExited, "shard 1 finished before it could be killed mid-part");
            killed.Kill(entireProcessTree: true); // SIGKILL
            killed.WaitForExit();
        }
        Ok(EvlfProcess.Run(Args("split", "--shards", "2", "--shard-index", "0")));
        var waiting = EvlfProcess.Run(Args("split", "--shards", "2"));
        Assert.True(waiting.ExitCode == 3, waiting.Stdout + waiting.Stderr);
        Assert.Contains("waits for shard 1 of 2", waiting.Stdout);
        Assert.False(File.Exists(Path.Combine(root, "split", "manifest.json")));

        // The retry runs shard 1 alone: shard 0's part stays as it was.
        string marker0 = Directory.GetFiles(stages, ".done", SearchOption.AllDirectories).Single(f => f.Contains(".part-0-of-2"));
        string before = File.ReadAllText(marker0);
        Ok(EvlfProcess.Run(Args("split", "--shards", "2", "--shard-index", "1")));
        Assert.Equal(before, File.ReadAllText(marker0));
        Assert.Contains("distilled 18 images", Ok(EvlfProcess.Run(Args("split", "--shards", "2"))).Stdout);
        AssertSameImages("one", "split");
    }

    [Fact]
    public void TheLocalExecutorRunsEveryWaveAndGivesTheImagesOfOneProcess()
    {
        Ok(EvlfProcess.Run(Args("one")));
        var r = Ok(EvlfProcess.Run(Args("local", "--shards", "3", "--workers", "2")));
        Assert.Contains("stage latents: running shards 0, 1, 2 of 3, 2 at a time", r.Stdout);
        Assert.Contains("stage sample: running shards 0, 1, 2 of 3, 2 at a time", r.Stdout);
        AssertSameImages("one", "local");
        // Run again: everything is finished, nothing runs.
        Assert.DoesNotContain("running shard", Ok(EvlfProcess.Run(Args("local", "--shards", "3", "--workers", "2"))).Stdout);
    }

    [Theory]
    [InlineData("--shard-index 1", "--shard-index needs --shards N")]
    [InlineData("--workers 2", "--workers needs --shards N")]
    [InlineData("--shards 2 --shard-index 0 --workers 2", "--workers runs every shard itself")]
    [InlineData("--shards 2 --workers 0", "--workers must be at least 1; got 0.")]
    [InlineData("--shards 0", "--shards must be at least 1; got 0.")]
    [InlineData("--shards 2 --shard-index 2", "--shard-index must lie in 0..1 for 2 shards; got 2.")]
    [InlineData("--shards 2 --shard-index auto", "--shard-index is auto, but none of EVLF_SHARD_INDEX")]
    public void BadShardFlagsAreUserErrors(string flags, string message)
    {
        var r = EvlfProcess.RunWith(new Dictionary<string, string> { ["EVLF_SHARD_INDEX"] = "", ["SLURM_ARRAY_TASK_ID"] = "", ["JOB_COMPLETION_INDEX"] = "" },
            [.. Args("bad"), .. flags.Split(' ')]);
        Assert.Contains(message, EvlfProcess.AssertUserError(r));
    }
}
