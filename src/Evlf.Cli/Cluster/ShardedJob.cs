using System.Globalization;
using System.Text.RegularExpressions;

namespace Evlf.Cli.Cluster;

/// <summary>
/// A sharded `evlf distill` as a scheduler runs it (docs/CLI.md, "Running on a cluster"): <see cref="Waves"/> times over,
/// <see cref="Shards"/> shard processes (<see cref="ShardCommand"/>, at most <see cref="Parallel"/> at once), then, once
/// all of them succeeded, one finishing run (<see cref="FinishCommand"/>). Every process sees the same run folder.
/// </summary>
/// <param name="Evlf">The evlf command on the cluster's nodes.</param>
/// <param name="DistillArguments">What follows <c>evlf distill</c>: the user's arguments, without --shards, --shard-index or --workers.</param>
/// <param name="Shards">The number of shards, 1 or more.</param>
/// <param name="Parallel">At most this many shard processes at once, 1 to <paramref name="Shards"/>.</param>
/// <param name="Waves">How many times the shards and the finishing run go: one per sharded stage of the method (DistillRecipe.Waves).</param>
/// <param name="Name">The prefix of the jobs' names (<see cref="NameProblem"/>).</param>
/// <param name="WorkingDirectory">Where every process starts: relative paths among the distill arguments are relative to it.</param>
/// <param name="RunFolder">The distill run's --out on the nodes, absolute (for the scripts' messages).</param>
internal sealed record ShardedJob(string Evlf, IReadOnlyList<string> DistillArguments, int Shards, int Parallel, int Waves, string Name,
    string WorkingDirectory, string RunFolder)
{
    /// <summary>The longest <see cref="Name"/>: job names add "-wK-shards", and an Indexed Job's pod host names its index.</summary>
    public const int MaxNameLength = 40;

    static readonly Regex Dns1123Label = new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant);

    string Count => Shards.ToString(CultureInfo.InvariantCulture);

    /// <summary>What each shard runs: its index comes from the scheduler (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX).</summary>
    public IReadOnlyList<string> ShardCommand => [Evlf, "distill", .. DistillArguments, "--shards", Count, "--shard-index", "auto"];

    /// <summary>What the finishing run of each wave runs: merge the wave's parts, go on, and publish or stop at the next sharded stage.</summary>
    public IReadOnlyList<string> FinishCommand => [Evlf, "distill", .. DistillArguments, "--shards", Count];

    /// <summary>
    /// Why <paramref name="name"/> cannot name the jobs, or null: it must be a DNS-1123 label (Kubernetes object names and
    /// labels) of at most <see cref="MaxNameLength"/> characters.
    /// </summary>
    public static string? NameProblem(string name) =>
        name.Length <= MaxNameLength && Dns1123Label.IsMatch(name)
            ? null
            : $"--name must be a DNS-1123 label of at most {MaxNameLength} characters (lower-case letters, digits and '-', starting and ending with a letter or digit); got '{name}'.";
}
