using System.Globalization;

namespace Evlf.OnnxHybrid.Sharding;

/// <summary>
/// How a run is split over processes (docs/SCALE.md): <see cref="Count"/> shards, and which one this process is. A process
/// with an <see cref="Index"/> is a shard: it does its share of the first shardable stage that is not finished and exits. A
/// process without one is the finishing run: it checks that every shard finished that stage, merges their outputs, runs
/// the steps that need all of them and goes on to the next shardable stage (or publishes).
/// </summary>
/// <param name="Count">The number of shards, 1 or more; always given explicitly, never read from the environment.</param>
/// <param name="Index">This process's shard, 0 ≤ Index &lt; Count; null for the finishing run.</param>
public sealed record ShardSpec(int Count, int? Index = null)
{
    /// <summary>The environment variables <see cref="ResolveIndex"/> reads for "auto", in this order: evlf's own, a Slurm array task's, a Kubernetes Indexed Job pod's.</summary>
    public static readonly IReadOnlyList<string> IndexVariables = ["EVLF_SHARD_INDEX", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

    /// <summary>Whether this process is one shard (not the finishing run).</summary>
    public bool IsShard => Index is not null;

    /// <summary>Throws a <see cref="UserInputException"/> naming <c>ShardSpec.Count</c> or <c>ShardSpec.Index</c> when they do not fit together.</summary>
    public void Validate()
    {
        if (Count < 1) throw UserInputException.ForOption(OptionName(nameof(Count)), FormattableString.Invariant($"must be at least 1; got {Count}."));
        if (Index is int i && (i < 0 || i >= Count))
            throw UserInputException.ForOption(OptionName(nameof(Index)), FormattableString.Invariant($"must lie in 0..{Count - 1} for {Count} shards; got {i}."));
    }

    /// <summary>
    /// The shard index a command line gave: a whole number, or "auto" for the first of <see cref="IndexVariables"/> that
    /// is set in <paramref name="environment"/> (default: the process's). Throws a <see cref="UserInputException"/> when
    /// "auto" finds none, or the value is not a whole number.
    /// </summary>
    public static int ResolveIndex(string text, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!text.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return ParseIndex(text, $"a whole number or auto; got '{text}'.");
        foreach (var name in IndexVariables)
            if (environment(name) is { Length: > 0 } value)
                return ParseIndex(value, $"a whole number; {name} is '{value}'.");
        throw UserInputException.ForOption(OptionName(nameof(Index)),
            $"is auto, but none of {string.Join(", ", IndexVariables)} is set; expected one of them (as a Slurm array task or a Kubernetes Indexed Job sets it), or a number.");
    }

    static int ParseIndex(string text, string expected) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            ? index
            : throw UserInputException.ForOption(OptionName(nameof(Index)), "must be " + expected);

    /// <summary>The name errors give the option (a front end maps it to its flag).</summary>
    public static string OptionName(string property) => $"{nameof(ShardSpec)}.{property}";

    public override string ToString() => Index is int i ? FormattableString.Invariant($"shard {i} of {Count}") : FormattableString.Invariant($"finishing run of {Count} shards");
}
