using System.ComponentModel;
using Evlf.Cli.Cluster;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Output;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>The options every `evlf cluster` command takes; the distill arguments follow <c>--</c>.</summary>
internal class ClusterSettings : CommandSettings
{
    [CommandOption("--shards <N>")]
    [Description("Split the run over N shard processes (required).")]
    public int? Shards { get; init; }

    [CommandOption("--parallel <P>")]
    [Description("At most P shard processes at once (default: all N).")]
    public int? Parallel { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("The folder the job files go to (a new folder, or one evlf wrote).")]
    [DefaultValue("cluster")]
    public string Out { get; init; } = "cluster";

    [CommandOption("--evlf <PATH>")]
    [Description("The evlf command on the cluster's nodes.")]
    [DefaultValue("evlf")]
    public string Evlf { get; init; } = "evlf";

    [CommandOption("--name <NAME>")]
    [Description("The prefix of the jobs' names: a DNS-1123 label (lower-case letters, digits, '-').")]
    [DefaultValue("evlf")]
    public string Name { get; init; } = "evlf";

    [CommandOption("--workdir <DIR>")]
    [Description("Where the processes start; relative paths in the distill arguments are relative to it (default: slurm, the current folder; k8s, --mount).")]
    public string? Workdir { get; init; }

    [CommandOption("--force")]
    [Description("Write into an --out folder that holds files evlf did not write; they are left alone, and evlf still never replaces them.")]
    public bool Force { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (Shards is null) return Spectre.Console.ValidationResult.Error("--shards N is required: the number of shard processes of each wave.");
        if (Shards < 1) return Spectre.Console.ValidationResult.Error($"--shards must be at least 1; got {Shards}.");
        if (Parallel is < 1) return Spectre.Console.ValidationResult.Error($"--parallel must be at least 1; got {Parallel}.");
        if (ShardedJob.NameProblem(Name) is string name) return Spectre.Console.ValidationResult.Error(name);
        if (string.IsNullOrWhiteSpace(Evlf)) return Spectre.Console.ValidationResult.Error("--evlf must name the evlf command on the nodes; got an empty string.");
        return Spectre.Console.ValidationResult.Success();
    }
}

/// <summary>
/// `evlf cluster slurm|k8s`: writes the job files that run a sharded `evlf distill` on a scheduler, wave after wave
/// (<see cref="ShardedJob"/>). The distill arguments after <c>--</c> are checked here as `evlf distill` would check them, so a
/// mistake shows now rather than on the cluster; they also say how many waves the method takes.
/// </summary>
internal abstract class ClusterCommand<TSettings> : Command<TSettings> where TSettings : ClusterSettings
{
    /// <summary>The scheduler's job files for <paramref name="job"/>.</summary>
    protected abstract IReadOnlyList<ClusterFile> Render(ShardedJob job, TSettings settings, DistillCommand.Settings distill);

    /// <summary>Where the processes start (absolute, on the nodes): --workdir, or the scheduler's default.</summary>
    protected abstract string Workdir(TSettings settings);

    /// <summary>The line that tells the user how to start the job files in <paramref name="folder"/>.</summary>
    protected abstract string HowToStart(string folder);

    public override int Execute(CommandContext context, TSettings s, CancellationToken cancellationToken)
    {
        var arguments = context.Remaining.Raw.ToList();
        var (distill, options) = DistillArguments.Parse(arguments);
        int shards = s.Shards!.Value;
        string workdir = Workdir(s);
        var job = new ShardedJob(s.Evlf, arguments, shards, Math.Min(s.Parallel ?? shards, shards), DistillRecipe.For(options).Waves, s.Name,
            workdir, PosixPath.Resolve(workdir, distill.Out));
        var files = Render(job, s, distill);
        using var folder = OutputFolder.Open(s.Out, "cluster", s.Force, option: "--out", forceOption: "--force");
        // Every name first: a file of the user's in the way stops the command before it writes anything.
        foreach (var file in files) folder.Reserve(file.Name);
        foreach (var file in files)
            folder.ReplaceFile(file.Name, temp =>
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew))
                {
                    stream.Write(new System.Text.UTF8Encoding(false).GetBytes(file.Text));
                    stream.Flush(flushToDisk: true);
                }
                if (file.Executable && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(temp, File.GetUnixFileMode(temp) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            });
        Console.WriteLine($"wrote {string.Join(", ", files.Select(f => f.Name))} into {folder.Path}: " +
                          $"{job.Waves} wave{(job.Waves > 1 ? "s" : "")} of {job.Shards} shard{(job.Shards > 1 ? "s" : "")} ({job.Parallel} at a time), each followed by the finishing run.");
        Console.WriteLine(HowToStart(folder.Path));
        return 0;
    }
}
