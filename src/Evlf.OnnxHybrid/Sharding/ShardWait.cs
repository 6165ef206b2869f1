using System.Globalization;

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

    /// <summary>
    /// Where a finishing run waits for the parts of <paramref name="stage"/> that are not finished, with the message that
    /// says which shards to run; <paramref name="subject"/> names the work in it ("stage 'sample'", "the evaluation").
    /// </summary>
    internal static ShardWait ForFinishingRun(string stage, string subject, int shards, IReadOnlyList<int> finished)
    {
        var wait = new ShardWait(stage, shards, finished, "");
        var missing = wait.Missing;
        return wait with
        {
            Message = finished.Count == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{subject} is split over {shards} shards and none has run it yet: run shards 0 to {shards - 1}, then the finishing run again.")
                : string.Create(CultureInfo.InvariantCulture, $"{subject} waits for shard{(missing.Count > 1 ? "s" : "")} {Ranges(missing)} of {shards}: run {(missing.Count > 1 ? "them" : "it")}, then the finishing run again."),
        };
    }

    /// <summary>"1, 3–5, 9" for 1, 3, 4, 5, 9.</summary>
    static string Ranges(IReadOnlyList<int> items)
    {
        var parts = new List<string>();
        for (int i = 0; i < items.Count;)
        {
            int j = i;
            while (j + 1 < items.Count && items[j + 1] == items[j] + 1) j++;
            parts.Add(j == i ? items[i].ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{items[i]}–{items[j]}"));
            i = j + 1;
        }
        return string.Join(", ", parts);
    }
}

/// <summary>Unwinds a sharded run to where it stops (<see cref="ShardWait"/>); the pipeline turns it into its result.</summary>
public sealed class ShardWaitException(ShardWait wait) : Exception(wait.Message)
{
    public ShardWait Wait { get; } = wait;
}
