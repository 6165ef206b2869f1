namespace Evlf.Cli.Commands;

/// <summary>The sharding flags that `evlf distill` and `evlf eval` share (--shards, --shard-index, and distill's --workers).</summary>
static class ShardFlags
{
    /// <summary>
    /// Why --shard-index or --workers cannot be read without --shards, as one line; null when they can. The number of
    /// shards is always given, never read from the environment, so that every shard agrees on it.
    /// </summary>
    public static string? MissingCount(int? shards, string? shardIndex, int? workers = null) =>
        shards is null && (shardIndex is not null || workers is not null)
            ? $"{(shardIndex is not null ? "--shard-index" : "--workers")} needs --shards N (the number of shards is always given, never read from the environment)."
            : null;
}
