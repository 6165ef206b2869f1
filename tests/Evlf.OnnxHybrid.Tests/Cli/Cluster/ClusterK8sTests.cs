using k8s;
using k8s.Models;

namespace Evlf.OnnxHybrid.Tests.Cli.Cluster;

/// <summary>
/// `evlf cluster k8s` through the real process: every YAML document it writes read as the Kubernetes API models it
/// (KubernetesClient, strictly: an unknown or misspelt field fails), with the fields an Indexed Job of shards and a
/// finishing Job need; run.sh against a fake kubectl (order, waiting, stopping at a failed Job).
/// </summary>
public class ClusterK8sTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-cluster-k8s-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    string Jobs => Path.Combine(root, "jobs");

    static readonly string[] Distill = ["--method", "mgd3", "--ipc", "10", "--out", "runs/it's mgd3", "--cache", "/data/cache"];

    static EvlfProcess.Result Ok(EvlfProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout: {r.Stdout}\nstderr: {r.Stderr}");
        return r;
    }

    void Render(params string[] options) =>
        Ok(EvlfProcess.Run(["cluster", "k8s", "--image", "registry.example/evlf:0.2", "--volume-claim", "evlf-data", "--out", Jobs, .. options, "--", .. Distill]));

    V1Job Load(string file)
    {
        var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Jobs, file)), null, strict: true);
        return Assert.IsType<V1Job>(Assert.Single(objects));
    }

    [Fact]
    public void EachWaveIsAnIndexedJobOfTheShardsAndAFinishingJobOnTheSharedVolume()
    {
        Render("--shards", "6", "--parallel", "2", "--retries", "4", "--name", "fmnist", "--cpu", "4", "--memory", "16Gi", "--gpus", "1");
        // mgd3 with EVLF: three sharded stages, three waves.
        Assert.Equal(["run.sh", "wave-1-finish.yaml", "wave-1-shards.yaml", "wave-2-finish.yaml", "wave-2-shards.yaml", "wave-3-finish.yaml", "wave-3-shards.yaml"],
            Directory.GetFiles(Jobs).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal));
        for (int wave = 1; wave <= 3; wave++)
        {
            var shards = Load($"wave-{wave}-shards.yaml");
            Assert.Equal($"fmnist-w{wave}-shards", shards.Metadata.Name);
            Assert.Equal("Indexed", shards.Spec.CompletionMode);
            Assert.Equal(6, shards.Spec.Completions);
            Assert.Equal(2, shards.Spec.Parallelism);
            Assert.Equal(4, shards.Spec.BackoffLimitPerIndex);
            Assert.Equal(0, shards.Spec.MaxFailedIndexes);
            Assert.Null(shards.Spec.BackoffLimit);
            var pod = shards.Spec.Template.Spec;
            Assert.Equal("Never", pod.RestartPolicy);   // backoffLimitPerIndex requires it
            var container = Assert.Single(pod.Containers);
            Assert.Equal("registry.example/evlf:0.2", container.Image);
            Assert.Equal(["evlf", "distill", .. Distill, "--shards", "6", "--shard-index", "auto"], container.Command);
            Assert.Equal("/data", container.WorkingDir);
            AssertSharedVolume(pod, container);
            Assert.Equal("4", container.Resources.Requests["cpu"].ToString());
            Assert.Equal("16Gi", container.Resources.Limits["memory"].ToString());
            Assert.Equal("1", container.Resources.Limits["nvidia.com/gpu"].ToString());
            Assert.Equal("limits.cpu", Assert.Single(container.Env, e => e.Name == "OMP_NUM_THREADS").ValueFrom.ResourceFieldRef.Resource);
            // A disruption (eviction, preemption) does not use up a retry.
            var rule = Assert.Single(shards.Spec.PodFailurePolicy.Rules);
            Assert.Equal("Ignore", rule.Action);
            Assert.Equal("DisruptionTarget", Assert.Single(rule.OnPodConditions).Type);

            var finish = Load($"wave-{wave}-finish.yaml");
            Assert.Equal($"fmnist-w{wave}-finish", finish.Metadata.Name);
            Assert.Null(finish.Spec.CompletionMode);
            Assert.Null(finish.Spec.BackoffLimitPerIndex);
            Assert.Equal(4, finish.Spec.BackoffLimit);
            Assert.Equal("Never", finish.Spec.Template.Spec.RestartPolicy);
            var finishContainer = Assert.Single(finish.Spec.Template.Spec.Containers);
            Assert.Equal(["evlf", "distill", .. Distill, "--shards", "6"], finishContainer.Command);
            AssertSharedVolume(finish.Spec.Template.Spec, finishContainer);
        }
    }

    static void AssertSharedVolume(V1PodSpec pod, V1Container container)
    {
        var mount = Assert.Single(container.VolumeMounts);
        Assert.Equal("/data", mount.MountPath);
        var volume = Assert.Single(pod.Volumes);
        Assert.Equal(mount.Name, volume.Name);
        Assert.Equal("evlf-data", volume.PersistentVolumeClaim.ClaimName);
    }

    [Fact]
    public void WithoutResourcesThePodsAskForNoneAndEveryShardRunsAtOnce()
    {
        Render("--shards", "3", "--mount", "/", "--evlf", "/app/evlf");
        var shards = Load("wave-1-shards.yaml");
        Assert.Equal(3, shards.Spec.Parallelism);
        Assert.Equal(3, shards.Spec.BackoffLimitPerIndex);
        var container = Assert.Single(shards.Spec.Template.Spec.Containers);
        Assert.Null(container.Resources);
        Assert.Equal("/app/evlf", container.Command[0]);
        Assert.Equal("/", container.VolumeMounts.Single().MountPath);
    }

    /// <summary>A fake kubectl: records its calls; a Job reports Complete, or Failed when its name is in <paramref name="failing"/>.</summary>
    string FakeKubectl(string failing = "none") => Shell.Script(Path.Combine(root, "bin"), "kubectl", $$"""
        echo "$*" >> '{{root}}/kubectl.log'
        case "$*" in
          *"get job {{failing}} "*) echo "FailureTarget Failed" ;;
          *"get job "*) echo "SuccessCriteriaMet Complete" ;;
        esac
        """);

    [Fact]
    public void RunShRunsEachWavesJobsInOrderEachAfterTheOneBeforeCompleted()
    {
        Render("--shards", "2");
        FakeKubectl();
        var r = Shell.Bash(Path.Combine(root, "bin"), Path.Combine(Jobs, "run.sh"), "-n", "research");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var calls = File.ReadAllLines(Path.Combine(root, "kubectl.log"));
        var expected = new List<string>();
        for (int wave = 1; wave <= 3; wave++)
            foreach (var part in new[] { "shards", "finish" })
            {
                string job = $"evlf-w{wave}-{part}";
                expected.Add($"-n research delete job {job} --ignore-not-found");
                expected.Add($"-n research apply -f wave-{wave}-{part}.yaml");
                expected.Add($"-n research get job {job} -o jsonpath={{.status.conditions[?(@.status==\"True\")].type}}");
            }
        Assert.Equal(expected, calls);
        Assert.Contains("published the set into /data/runs/it's mgd3", r.Stdout);
    }

    [Fact]
    public void RunShStopsAtAFailedJob()
    {
        Render("--shards", "2");
        FakeKubectl(failing: "evlf-w2-shards");
        var r = Shell.Bash(Path.Combine(root, "bin"), Path.Combine(Jobs, "run.sh"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("job evlf-w2-shards failed", r.Stderr);
        var calls = File.ReadAllText(Path.Combine(root, "kubectl.log"));
        Assert.Contains("apply -f wave-1-finish.yaml", calls);
        Assert.DoesNotContain("wave-2-finish.yaml", calls);
        Assert.Equal(0, Shell.Bash(null, "-n", Path.Combine(Jobs, "run.sh")).ExitCode);
    }
}
