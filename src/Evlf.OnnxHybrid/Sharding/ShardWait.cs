namespace Evlf.OnnxHybrid.Sharding;

/// <summary>
/// Where a sharded run stopped without publishing: a shard after its part of a stage, or the finishing run at a
/// sharded stage whose parts are not all finished.
/// </summary>
/// <param name="Stage">The stage it stopped at.</param>
/// <param name="Shards">The number of shards.</param>
/// <param name="Finished">The shards whose part of <paramref name="Stage"/> is finished (empty where the stage is not sharded).</param>
/// <param name="Message">One sentence for the user: what happened and what runs next.</param>
public sealed record ShardWait(string Stage, int Shards, IReadOnlyList<int> Finished, string Message)
{
    /// <summary>The shards whose part is not finished.</summary>
    public IReadOnlyList<int> Missing => Enumerable.Range(0, Shards).Except(Finished).ToList();
}

/// <summary>Unwinds a sharded run to where it stops (<see cref="ShardWait"/>); the pipeline turns it into its result.</summary>
public sealed class ShardWaitException(ShardWait wait) : Exception(wait.Message)
{
    public ShardWait Wait { get; } = wait;
}
