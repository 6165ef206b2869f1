namespace Evlf.OnnxHybrid.Tests.Cli.Cluster;

/// <summary>Mistakes on an `evlf cluster` command line are user errors: exit 2, one sentence, no files written.</summary>
public class ClusterErrorTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-cluster-errors-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Theory]
    [InlineData("slurm -- --out /shared/x", "--shards N is required")]
    [InlineData("slurm --shards 0 -- --out /shared/x", "--shards must be at least 1; got 0.")]
    [InlineData("slurm --shards 2 --parallel 0 -- --out /shared/x", "--parallel must be at least 1; got 0.")]
    [InlineData("slurm --shards 2 -- --method mgd3 --shards 4 --out /shared/x", "must not give --shards")]
    [InlineData("slurm --shards 2 -- --out /shared/x --shard-index=auto", "must not give --shard-index")]
    [InlineData("slurm --shards 2 -- --out /shared/x --workers 2", "must not give --workers")]
    [InlineData("slurm --shards 2 -- --method mgd3", "must give --out DIR: every process of a cluster run reads and writes that one run folder")]
    [InlineData("slurm --shards 2", "must give --out DIR")]
    [InlineData("slurm --shards 2 -- --out /shared/x --metod d4m", "not a valid distill command line: Unknown option 'metod'.")]
    [InlineData("slurm --shards 2 -- --out /shared/x --ipc 0", "not a valid distill command line: --ipc must be at least 1; got 0.")]
    [InlineData("slurm --shards 2 -- --out /shared/x --method random --finetune", "not a valid distill command line: --finetune applies to the generative methods")]
    [InlineData("slurm --shards 2 --name Evlf_Run -- --out /shared/x", "--name must be a DNS-1123 label")]
    [InlineData("slurm --shards 2 --name evlf- -- --out /shared/x", "--name must be a DNS-1123 label")]
    [InlineData("slurm --shards 2 --name a-name-that-is-much-too-long-for-the-job-names -- --out /shared/x", "--name must be a DNS-1123 label of at most 40 characters")]
    [InlineData("slurm --shards 2 --cpus-per-task 0 -- --out /shared/x", "--cpus-per-task must be at least 1; got 0.")]
    [InlineData("k8s --shards 2 --volume-claim data -- --out /data/x", "--image IMAGE is required")]
    [InlineData("k8s --shards 2 --image evlf:1 -- --out /data/x", "--volume-claim NAME is required")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data --name Evlf -- --out /data/x", "--name must be a DNS-1123 label")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data -- --out /elsewhere/x", "the distill --out '/elsewhere/x' lies outside the volume mounted at /data")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data -- --out ../x", "the distill --out '../x' lies outside the volume mounted at /data")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data -- --out x --cache /tmp/c", "the distill --cache '/tmp/c' lies outside the volume")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data --mount data -- --out x", "--mount must be an absolute path in the container")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data --memory 16GB -- --out x", "--memory must be a Kubernetes quantity such as 4, 500m or 16Gi; got '16GB'.")]
    [InlineData("k8s --shards 2 --image evlf:1 --volume-claim data --retries -1 -- --out x", "--retries must be at least 0; got -1.")]
    public void IsAUserError(string arguments, string message)
    {
        string jobs = Path.Combine(root, "jobs");
        var r = EvlfProcess.Run(["cluster", .. arguments.Split(' ')[..1], "--out", jobs, .. arguments.Split(' ')[1..]]);
        Assert.Contains(message, EvlfProcess.AssertUserError(r));
        Assert.False(Directory.Exists(jobs) && Directory.EnumerateFiles(jobs).Any(f => !Path.GetFileName(f).StartsWith('.')), "files were written");
    }

    [Fact]
    public void APartitionWithASpaceWouldBreakTheSbatchLineAndIsAUserError()
    {
        var r = EvlfProcess.Run("cluster", "slurm", "--shards", "2", "--partition", "gpu long", "--out", Path.Combine(root, "jobs"), "--", "--out", "/shared/x");
        Assert.Contains("--partition must be one word without spaces", EvlfProcess.AssertUserError(r));
    }

    [Theory]
    [InlineData("cluster", "slurm")]
    [InlineData("cluster", "k8s")]
    public void HelpRendersEveryOption(string command, string scheduler)
    {
        var r = EvlfProcess.Run(command, scheduler, "--help");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("--shards <N>", r.Stdout);
        Assert.Equal("", r.Stderr.Trim());
    }
}
