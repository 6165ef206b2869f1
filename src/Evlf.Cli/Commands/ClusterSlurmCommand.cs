using System.ComponentModel;
using Evlf.Cli.Cluster;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf cluster slurm --shards N [--parallel P] [--out DIR] [--partition …] -- DISTILL ARGS`: Slurm batch scripts and their submitter.</summary>
internal sealed class ClusterSlurmCommand : ClusterCommand<ClusterSlurmCommand.Settings>
{
    public sealed class Settings : ClusterSettings
    {
        [CommandOption("--partition <NAME>")]
        [Description("#SBATCH --partition of every job.")]
        public string? Partition { get; init; }

        [CommandOption("--account <NAME>")]
        [Description("#SBATCH --account of every job.")]
        public string? Account { get; init; }

        [CommandOption("--time <LIMIT>")]
        [Description("#SBATCH --time of every job, e.g. 2:00:00.")]
        public string? Time { get; init; }

        [CommandOption("--cpus-per-task <N>")]
        [Description("#SBATCH --cpus-per-task of every job (also each process's libtorch threads).")]
        public int? CpusPerTask { get; init; }

        [CommandOption("--mem <SIZE>")]
        [Description("#SBATCH --mem of every job, e.g. 32G.")]
        public string? Mem { get; init; }

        [CommandOption("--gres <LIST>")]
        [Description("#SBATCH --gres of every job, e.g. gpu:1.")]
        public string? Gres { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            var common = base.Validate();
            if (!common.Successful) return common;
            if (CpusPerTask is < 1) return Spectre.Console.ValidationResult.Error($"--cpus-per-task must be at least 1; got {CpusPerTask}.");
            foreach (var (option, value) in new[] { ("--partition", Partition), ("--account", Account), ("--time", Time), ("--mem", Mem), ("--gres", Gres) })
                if (SlurmScripts.ValueProblem(option, value) is string problem) return Spectre.Console.ValidationResult.Error(problem);
            return Spectre.Console.ValidationResult.Success();
        }
    }

    // The folder evlf cluster runs in: relative paths mean on the nodes what they mean here.
    protected override string Workdir(Settings settings) => Path.GetFullPath(settings.Workdir ?? Environment.CurrentDirectory);

    protected override IReadOnlyList<ClusterFile> Render(ShardedJob job, Settings s, DistillCommand.Settings distill) =>
        SlurmScripts.Render(job, new SlurmResources(s.Partition, s.Account, s.Time, s.CpusPerTask, s.Mem, s.Gres));

    protected override string HowToStart(string folder) => $"submit the jobs with: bash {Bash.Quote(Path.Combine(folder, SlurmScripts.SubmitScript))}";
}
