using System.Globalization;
using Evlf.OnnxHybrid.Sharding;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// A stage that can be split over shards (the latents by image ranges, sampling by class ranges; docs/SCALE.md). Run
/// in one process it is an ordinary stage. Split over <see cref="ShardSpec.Count"/> shards, each shard produces its part
/// (<see cref="RunFolder.Part"/>) and stops; the finishing run merges the parts into the stage — the same files one
/// process writes — once every part is finished, and deletes them.
/// </summary>
internal static class ShardedStage
{
    /// <param name="context">The run's options (its shards), folder and progress.</param>
    /// <param name="stage">The stage's name.</param>
    /// <param name="key">The stage's cache key.</param>
    /// <param name="whole">Produces the whole stage into the folder it is given (one process).</param>
    /// <param name="part">Produces part (index, count) into the folder it is given.</param>
    /// <param name="merge">Produces the whole stage into the folder it is given from the finished parts' folders, in part order.</param>
    /// <returns>The stage folder.</returns>
    public static string Run(StageContext context, string stage, string key, Action<string> whole, Action<string, int, int> part,
        Action<string, IReadOnlyList<string>> merge)
    {
        // The waves a scheduler runs (DistillRecipe.Waves) are counted from this list.
        if (!StageNames.Sharded.Contains(stage)) throw new ArgumentException($"Stage '{stage}' is not one of StageNames.Sharded.", nameof(stage));
        var run = context.Run;
        if (run.Shards is not { } shards || run.IsStageDone(stage, key)) return run.Stage(stage, key, whole);
        int count = shards.Count;
        if (shards.Index is int index)
        {
            run.Part(stage, key, index, count, tmp => part(tmp, index, count));
            // Which parts have a marker, for the message only: hashing every part's files in every shard would read the
            // whole stage N times over; the finishing run checks them in full.
            List<int> done = [.. Enumerable.Range(0, count).Where(i => File.Exists(Path.Combine(run.PartFolder(stage, key, i, count), ShardMarker.FileName)))];
            throw new ShardWaitException(new ShardWait(stage, count, done, string.Create(CultureInfo.InvariantCulture,
                $"shard {index} of {count} finished its part of stage '{stage}' ({done.Count} of {count} parts finished); the finishing run goes on once all are.")));
        }
        var finished = Finished(run, stage, key, count);
        if (finished.Count < count) throw new ShardWaitException(ShardWait.ForFinishingRun(stage, $"stage '{stage}'", count, finished));
        string folder = run.Stage(stage, key, tmp => merge(tmp, [.. Enumerable.Range(0, count).Select(i => run.PartFolder(stage, key, i, count))]));
        run.DeleteParts(stage, key, count);
        return folder;
    }

    static List<int> Finished(RunFolder run, string stage, string key, int count) =>
        [.. Enumerable.Range(0, count).Where(i => run.IsPartDone(stage, key, i, count))];
}
