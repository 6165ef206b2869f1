using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Evlf.Cli.Cluster;

/// <summary>
/// Where the pods run and what they get (<see cref="KubernetesJobs"/>).
/// </summary>
/// <param name="Image">The container image that has evlf.</param>
/// <param name="VolumeClaim">The PersistentVolumeClaim every pod mounts: the shared file system of the run folder.</param>
/// <param name="Mount">Where the pods mount it (absolute).</param>
/// <param name="Retries">How often a failed pod is retried: per index of an Indexed Job (backoffLimitPerIndex), and for the finishing Job (backoffLimit).</param>
/// <param name="Cpu">CPU request and limit (a quantity, e.g. 4 or 500m), or null.</param>
/// <param name="Memory">Memory request and limit (e.g. 16Gi), or null.</param>
/// <param name="Gpus">NVIDIA GPUs per pod (the nvidia.com/gpu limit), or null.</param>
internal sealed record KubernetesPods(string Image, string VolumeClaim, string Mount, int Retries, string? Cpu = null, string? Memory = null, int? Gpus = null);

/// <summary>
/// A <see cref="ShardedJob"/> as Kubernetes Jobs: per wave K, <c>wave-K-shards.yaml</c> (an Indexed Job: pod I = shard I,
/// retried per index) and <c>wave-K-finish.yaml</c> (the finishing run). A Job cannot wait for another, so <c>run.sh</c>
/// applies them in order with kubectl, each once the one before completed, and stops at the first that fails.
/// </summary>
internal static class KubernetesJobs
{
    public const string RunScript = "run.sh";

    static readonly Regex Quantity = new(@"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$", RegexOptions.CultureInvariant);

    /// <summary>Why <paramref name="value"/> is not a Kubernetes resource quantity (e.g. 4, 500m, 16Gi) for <paramref name="option"/>, or null.</summary>
    public static string? QuantityProblem(string option, string? value) =>
        value is null || Quantity.IsMatch(value) ? null : $"{option} must be a Kubernetes quantity such as 4, 500m or 16Gi; got '{value}'.";

    /// <summary>The name of wave <paramref name="wave"/>'s Indexed Job (<paramref name="finish"/> false) or finishing Job.</summary>
    public static string JobName(ShardedJob job, int wave, bool finish) =>
        string.Create(CultureInfo.InvariantCulture, $"{job.Name}-w{wave}-{(finish ? "finish" : "shards")}");

    public static string FileName(int wave, bool finish) => string.Create(CultureInfo.InvariantCulture, $"wave-{wave}-{(finish ? "finish" : "shards")}.yaml");

    public static IReadOnlyList<ClusterFile> Render(ShardedJob job, KubernetesPods pods)
    {
        var files = new List<ClusterFile>();
        for (int wave = 1; wave <= job.Waves; wave++)
        {
            files.Add(new(FileName(wave, false), Job(job, pods, wave, finish: false)));
            files.Add(new(FileName(wave, true), Job(job, pods, wave, finish: true)));
        }
        files.Add(new(RunScript, Run(job), Executable: true));
        return files;
    }

    static string Job(ShardedJob job, KubernetesPods pods, int wave, bool finish)
    {
        string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
        var y = new StringBuilder();
        y.Append(finish
            ? $"# The finishing run of wave {wave} of {job.Waves} of a sharded `evlf distill` (written by `evlf cluster k8s`; {RunScript} applies it once\n" +
              $"# {FileName(wave, false)} completed): merges the shards' parts, runs what needs all of them, and publishes or stops at the next sharded stage.\n"
            : $"# Wave {wave} of {job.Waves} of a sharded `evlf distill` (written by `evlf cluster k8s`; {RunScript} applies it): pod I of this Indexed Job\n" +
              "# runs shard I's part of the first sharded stage that is not finished (JOB_COMPLETION_INDEX), then exits.\n");
        y.Append("apiVersion: batch/v1\nkind: Job\nmetadata:\n");
        y.Append($"  name: {JobName(job, wave, finish)}\n");
        y.Append($"  labels:\n    app.kubernetes.io/name: evlf\n    app.kubernetes.io/instance: {job.Name}\n");
        y.Append("spec:\n");
        if (finish)
        {
            y.Append($"  backoffLimit: {Int(pods.Retries)}\n");
        }
        else
        {
            y.Append("  completionMode: Indexed\n");
            y.Append($"  completions: {Int(job.Shards)}\n");
            y.Append($"  parallelism: {Int(job.Parallel)}\n");
            // Each shard gets its own retries; the Job fails as soon as one shard has used them up (its finished
            // parts stay: the next attempt skips them).
            y.Append($"  backoffLimitPerIndex: {Int(pods.Retries)}\n");
            y.Append("  maxFailedIndexes: 0\n");
        }
        // A pod evicted or preempted (a disruption) is replaced without using a retry, as Slurm's --requeue does.
        y.Append("  podFailurePolicy:\n    rules:\n      - action: Ignore\n        onPodConditions:\n          - type: DisruptionTarget\n");
        y.Append("  template:\n");
        y.Append($"    metadata:\n      labels:\n        app.kubernetes.io/name: evlf\n        app.kubernetes.io/instance: {job.Name}\n");
        y.Append("    spec:\n");
        y.Append("      restartPolicy: Never\n");
        y.Append("      containers:\n");
        y.Append("        - name: evlf\n");
        y.Append($"          image: {Yaml.Quote(pods.Image)}\n");
        y.Append($"          workingDir: {Yaml.Quote(job.WorkingDirectory)}\n");
        y.Append($"          command: {Yaml.List(finish ? job.FinishCommand : job.ShardCommand)}\n");
        // libtorch would start a thread per core of the node: as many as the pod's CPU limit (the node's CPUs without one).
        y.Append("          env:\n            - name: OMP_NUM_THREADS\n              valueFrom:\n                resourceFieldRef:\n                  resource: limits.cpu\n                  divisor: \"1\"\n");
        var requests = new List<string>();
        if (pods.Cpu is not null) requests.Add($"cpu: {Yaml.Quote(pods.Cpu)}");
        if (pods.Memory is not null) requests.Add($"memory: {Yaml.Quote(pods.Memory)}");
        var limits = new List<string>(requests);
        if (pods.Gpus is int gpus) limits.Add($"nvidia.com/gpu: {Int(gpus)}");
        if (limits.Count > 0)
        {
            y.Append("          resources:\n");
            if (requests.Count > 0) y.Append("            requests:\n").Append(string.Concat(requests.Select(r => $"              {r}\n")));
            y.Append("            limits:\n").Append(string.Concat(limits.Select(r => $"              {r}\n")));
        }
        y.Append($"          volumeMounts:\n            - name: shared\n              mountPath: {Yaml.Quote(pods.Mount)}\n");
        y.Append($"      volumes:\n        - name: shared\n          persistentVolumeClaim:\n            claimName: {Yaml.Quote(pods.VolumeClaim)}\n");
        return y.ToString();
    }

    static string Run(ShardedJob job)
    {
        string waves = job.Waves.ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder("#!/bin/bash\n");
        text.Append($$"""
            # Runs a sharded `evlf distill` on Kubernetes (written by `evlf cluster k8s`). The run takes {{waves}} wave{{(job.Waves > 1 ? "s" : "")}}, one per stage
            # it splits over shards; each wave is the Indexed Job wave-K-shards.yaml ({{job.Shards}} pods, at most {{job.Parallel}} at once), then,
            # once it completed, the finishing Job wave-K-finish.yaml. The last finishing run publishes the set into the run folder
            # (distill's --out) on the shared volume. Stops at the first Job that fails; running this script again resumes:
            # it replaces the Jobs of an earlier attempt, and shards skip the parts they finished before.
            # Usage: bash {{RunScript}} [KUBECTL OPTION]...   (the options are added to every kubectl call, e.g. -n NAMESPACE)
            set -euo pipefail
            cd -- "$(dirname -- "${BASH_SOURCE[0]}")"
            extra=("$@")
            k() { kubectl ${extra[@]+"${extra[@]}"} "$@"; }

            run_job() {  # FILE JOB: apply, then wait until the Job completed (return 0) or failed (return 1)
              k delete job "$2" --ignore-not-found
              k apply -f "$1"
              local state
              while :; do
                state=" $(k get job "$2" -o 'jsonpath={.status.conditions[?(@.status=="True")].type}') "
                case "$state" in
                  *" Complete "*) echo "job $2 complete"; return 0 ;;
                  *" Failed "*) echo "job $2 failed; see kubectl describe job $2 and kubectl logs job/$2" >&2; return 1 ;;
                esac
                sleep 10
              done
            }


            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        for (int wave = 1; wave <= job.Waves; wave++)
        {
            text.Append($"echo \"wave {wave} of {waves}\"\n");
            text.Append($"run_job {FileName(wave, false)} {JobName(job, wave, false)}\n");
            text.Append($"run_job {FileName(wave, true)} {JobName(job, wave, true)}\n");
        }
        text.Append($"echo \"published the set into\" {Bash.Quote(job.RunFolder)}\n");
        return text.ToString();
    }
}
