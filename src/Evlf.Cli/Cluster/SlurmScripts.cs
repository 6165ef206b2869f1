using System.Globalization;
using System.Text;

namespace Evlf.Cli.Cluster;

/// <summary>
/// What a Slurm job needs besides the command, passed through to <c>#SBATCH</c> lines when set (null: the cluster's
/// default). Each value is one word: <see cref="SlurmScripts.ValueProblem"/>.
/// </summary>
internal sealed record SlurmResources(string? Partition = null, string? Account = null, string? Time = null, int? CpusPerTask = null,
    string? Mem = null, string? Gres = null);

/// <summary>
/// A <see cref="ShardedJob"/> as Slurm scripts: <c>shards.sbatch</c> (a job array, task I = shard I), <c>finish.sbatch</c>
/// (the finishing run) and <c>submit.sh</c>, which submits every wave at once, each job depending on the one before it
/// (<c>afterok</c>), so the chain runs unattended and stops at the first failure.
/// </summary>
internal static class SlurmScripts
{
    public const string ShardsScript = "shards.sbatch";
    public const string FinishScript = "finish.sbatch";
    public const string SubmitScript = "submit.sh";
    /// <summary>The folder, beside the scripts, that the jobs' logs go to.</summary>
    public const string LogFolder = "logs";

    /// <summary>Why <paramref name="value"/> cannot go on an <c>#SBATCH</c> line as <paramref name="option"/>'s value, or null.</summary>
    public static string? ValueProblem(string option, string? value) =>
        value is null || (value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            ? null
            : $"{option} must be one word without spaces (it goes on an #SBATCH line as it is); got '{value}'.";

    public static IReadOnlyList<ClusterFile> Render(ShardedJob job, SlurmResources resources) =>
    [
        new(ShardsScript, Batch(job, resources, array: true)),
        new(FinishScript, Batch(job, resources, array: false)),
        new(SubmitScript, Submit(job), Executable: true),
    ];

    static string Batch(ShardedJob job, SlurmResources resources, bool array)
    {
        var text = new StringBuilder("#!/bin/bash\n");
        text.Append(array
            ? $"# One shard of a sharded `evlf distill` (written by `evlf cluster slurm`; {SubmitScript} submits it once per wave):\n" +
              "# array task I runs shard I's part of the first sharded stage that is not finished, then exits.\n"
            : $"# The finishing run of a sharded `evlf distill` (written by `evlf cluster slurm`; {SubmitScript} submits it after each\n" +
              "# wave of shards): merges their parts, runs what needs all of them, and publishes or stops at the next sharded stage.\n");
        Sbatch(text, "job-name", $"{job.Name}-{(array ? "shards" : "finish")}");
        if (array) Sbatch(text, "array", string.Create(CultureInfo.InvariantCulture, $"0-{job.Shards - 1}%{job.Parallel}"));
        // A preempted or failed node puts the job back in the queue; a shard's finished part survives it (a completion marker).
        Sbatch(text, "requeue", null);
        // A job whose predecessor failed can never start: cancel it instead of leaving it pending.
        Sbatch(text, "kill-on-invalid-dep", "yes");
        Sbatch(text, "output", $"{LogFolder}/%x-{(array ? "%A_%a" : "%j")}.log");
        Sbatch(text, "partition", resources.Partition);
        Sbatch(text, "account", resources.Account);
        Sbatch(text, "time", resources.Time);
        Sbatch(text, "cpus-per-task", resources.CpusPerTask?.ToString(CultureInfo.InvariantCulture));
        Sbatch(text, "mem", resources.Mem);
        Sbatch(text, "gres", resources.Gres);
        text.Append("set -euo pipefail\n");
        text.Append($"cd -- {Bash.Quote(job.WorkingDirectory)}\n");
        // libtorch would start a thread per core of the node; a task gets the CPUs Slurm allocated to it.
        text.Append("if [ -z \"${OMP_NUM_THREADS:-}\" ] && [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export OMP_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi\n");
        text.Append($"exec {Bash.Words(array ? job.ShardCommand : job.FinishCommand)}\n");
        return text.ToString();
    }

    static void Sbatch(StringBuilder text, string option, string? value)
    {
        if (option is "requeue") text.Append("#SBATCH --requeue\n");
        else if (value is not null) text.Append($"#SBATCH --{option}={value}\n");
    }

    static string Submit(ShardedJob job)
    {
        string waves = job.Waves.ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder("#!/bin/bash\n");
        text.Append($$"""
            # Submits a sharded `evlf distill` to Slurm (written by `evlf cluster slurm`). The run takes {{waves}} wave{{(job.Waves > 1 ? "s" : "")}}, one per
            # stage it splits over shards; each wave is the job array {{ShardsScript}} ({{job.Shards}} shards, at most {{job.Parallel}} at once),
            # then {{FinishScript}}, the finishing run, once every shard succeeded. The last finishing run publishes the set into
            # the run folder (distill's --out). All jobs are submitted now, each waiting for the one before (afterok); when one fails,
            # those after it are cancelled. Running this script again resumes: shards skip the parts they finished before.
            # Every job must see the run folder (and --cache) on a shared file system, and this folder for its logs ({{LogFolder}}/).
            # Usage: bash {{SubmitScript}} [SBATCH OPTION]...   (the options are added to every sbatch call, e.g. --qos=long)
            set -euo pipefail
            cd -- "$(dirname -- "${BASH_SOURCE[0]}")"
            mkdir -p {{LogFolder}}

            submit() {  # sbatch's arguments; prints the job id ("id" or "id;cluster"), or stops the script when sbatch fails
              local id
              id=$(sbatch --parsable ${extra[@]+"${extra[@]}"} "$@") || exit 1
              echo "${id%%;*}"
            }
            extra=("$@")

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        text.Append('\n');
        for (int wave = 1; wave <= job.Waves; wave++)
        {
            string after = wave == 1 ? "" : $"--dependency=afterok:\"$finish{wave - 1}\" ";
            text.Append($"shards{wave}=$(submit {after}{ShardsScript})\n");
            text.Append($"finish{wave}=$(submit --dependency=afterok:\"$shards{wave}\" {FinishScript})\n");
            text.Append($"echo \"wave {wave} of {waves}: shards job $shards{wave}, finishing job $finish{wave}\"\n");
        }
        text.Append($"echo \"the set is published into\" {Bash.Quote(job.RunFolder)} \"when job $finish{job.Waves} completes (squeue --me; logs in $PWD/{LogFolder})\"\n");
        return text.ToString();
    }
}
