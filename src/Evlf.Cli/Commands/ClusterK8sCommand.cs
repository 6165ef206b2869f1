using System.ComponentModel;
using Evlf.Cli.Cluster;
using Evlf.OnnxHybrid;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf cluster k8s --shards N --image IMAGE --volume-claim PVC [--mount /data] [--retries 3] -- DISTILL ARGS`: Kubernetes Jobs and their runner.</summary>
internal sealed class ClusterK8sCommand : ClusterCommand<ClusterK8sCommand.Settings>
{
    public sealed class Settings : ClusterSettings
    {
        [CommandOption("--image <IMAGE>")]
        [Description("The container image with evlf (required).")]
        public string? Image { get; init; }

        [CommandOption("--volume-claim <NAME>")]
        [Description("The PersistentVolumeClaim every pod mounts: the shared file system the run folder (and --cache) lives on (required).")]
        public string? VolumeClaim { get; init; }

        [CommandOption("--mount <PATH>")]
        [Description("Where the pods mount the volume; the run folder must lie under it.")]
        [DefaultValue("/data")]
        public string Mount { get; init; } = "/data";

        [CommandOption("--retries <R>")]
        [Description("How often a failed pod is retried: per shard (backoffLimitPerIndex) and for the finishing run (backoffLimit).")]
        [DefaultValue(3)]
        public int Retries { get; init; } = 3;

        [CommandOption("--cpu <QUANTITY>")]
        [Description("CPU request and limit of every pod, e.g. 4 (also each process's libtorch threads).")]
        public string? Cpu { get; init; }

        [CommandOption("--memory <QUANTITY>")]
        [Description("Memory request and limit of every pod, e.g. 16Gi.")]
        public string? Memory { get; init; }

        [CommandOption("--gpus <N>")]
        [Description("NVIDIA GPUs of every pod (the nvidia.com/gpu limit).")]
        public int? Gpus { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful) return common;
            if (string.IsNullOrWhiteSpace(Image)) return Spectre.Console.ValidationResult.Error("--image IMAGE is required: the container image the pods run evlf from.");
            if (string.IsNullOrWhiteSpace(VolumeClaim))
                return Spectre.Console.ValidationResult.Error("--volume-claim NAME is required: the PersistentVolumeClaim that holds the run folder every pod shares.");
            if (!Mount.StartsWith('/')) return Spectre.Console.ValidationResult.Error($"--mount must be an absolute path in the container; got '{Mount}'.");
            if (Workdir is not null && !Workdir.StartsWith('/')) return Spectre.Console.ValidationResult.Error($"--workdir must be an absolute path in the container; got '{Workdir}'.");
            if (Retries < 0) return Spectre.Console.ValidationResult.Error($"--retries must be at least 0; got {Retries}.");
            if (Gpus is < 1) return Spectre.Console.ValidationResult.Error($"--gpus must be at least 1; got {Gpus}.");
            foreach (var (option, value) in new[] { ("--cpu", Cpu), ("--memory", Memory) })
                if (KubernetesJobs.QuantityProblem(option, value) is string problem) return Spectre.Console.ValidationResult.Error(problem);
            return Spectre.Console.ValidationResult.Success();
        }
    }

    // The volume: relative paths in the distill arguments land on it.
    protected override string Workdir(Settings settings) => settings.Workdir ?? settings.Mount;

    protected override IReadOnlyList<ClusterFile> Render(ShardedJob job, Settings s, DistillCommand.Settings distill)
    {
        // What the pods write anywhere but the volume is lost with them.
        foreach (var (option, path) in new[] { ("--out", distill.Out), ("--cache", distill.Cache) })
            if (path is not null && !PosixPath.IsUnder(PosixPath.Resolve(job.WorkingDirectory, path), s.Mount))
                throw new UserInputException($"the distill {option} '{path}' lies outside the volume mounted at {s.Mount} (from working directory {job.WorkingDirectory}); the pods share only that volume, so put it under {s.Mount}.");
        return KubernetesJobs.Render(job, new KubernetesPods(s.Image!, s.VolumeClaim!, s.Mount, s.Retries, s.Cpu, s.Memory, s.Gpus));
    }

    protected override string HowToStart(string folder) => $"run the jobs with: bash {Bash.Quote(Path.Combine(folder, KubernetesJobs.RunScript))} [-n NAMESPACE]";
}
