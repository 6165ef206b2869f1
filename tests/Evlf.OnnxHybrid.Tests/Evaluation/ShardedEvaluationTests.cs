using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Sharding;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

/// <summary>
/// `evlf eval --shards`: shards train contiguous ranges of the repeats into part files, the finishing run merges them in
/// repeat order into the eval.json of one process, waits for (and names) missing shards, and a shard resumes its part.
/// </summary>
public class ShardedEvaluationTests
{
    static EvaluationOptions Tiny(ShardSpec? shards = null) => new()
    {
        Model = ClassifierArchitecture.Parse("convnet1"),
        Protocol = new DsaProtocol(new DsaProtocolOptions { Epochs = 2 }),
        Repeats = 5,
        Seed = 10,
        Normalization = Normalization.MeanStd([0.3f], [0.3f]),
        Shards = shards,
    };

    [Fact]
    public void ShardsMergeIntoTheAccuraciesOfOneProcess()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(6);
        var one = dir.Combine("one");
        var split = dir.Combine("split");
        TinyData.WriteSet(data, one, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        TinyData.WriteSet(data, split, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        var expected = SyntheticSetEvaluation.RunAndWrite(one, data, "bars", Tiny());

        var waiting = SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3)));
        Assert.Equal([0, 1, 2], waiting.Waiting!.Missing);
        Assert.False(File.Exists(Path.Combine(split, EvaluationResult.FileName)));

        // Shard 2 of 3 takes repeats 4 and 5 (seeds 14, 15); shard 0 repeats 1 and 2.
        var last = SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3, 2)));
        Assert.Equal(new long[] { 14 }, last.Seeds);
        Assert.Contains("repeat 5 of 5", last.Waiting!.Message);
        var first = SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3, 0)));
        Assert.Equal(new long[] { 10, 11 }, first.Seeds);
        Assert.Equal([0, 2], first.Waiting!.Finished);
        var partial = SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3)));
        Assert.Contains("waits for shard 1 of 3", partial.Waiting!.Message);

        SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3, 1)));
        var merged = SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3)));
        Assert.Null(merged.Waiting);
        Assert.Equal(expected.Seeds, merged.Seeds);
        Assert.Equal(expected.Accuracies, merged.Accuracies);
        Assert.Equal(expected.Accuracies, EvaluationResult.TryRead(Path.Combine(split, EvaluationResult.FileName))!.Accuracies);
        Assert.Empty(Directory.GetFiles(split, ".eval.part-*"));
        // Finishing again finds eval.json complete.
        Assert.Null(SyntheticSetEvaluation.RunAndWrite(split, data, "bars", Tiny(new ShardSpec(3))).Waiting);
    }

    [Fact]
    public void AShardKeepsTheRepeatsItsPartFinishedAndOnlyThose()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(6);
        var run = dir.Combine("run");
        TinyData.WriteSet(data, run, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        var done = SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny(new ShardSpec(2, 0)));
        Assert.Equal(new long[] { 10, 11, 12 }, done.Seeds);

        // A marker accuracy in the part file survives a re-run of the shard: nothing is trained again.
        string part = SyntheticSetEvaluation.PartFile(run, 0, 2);
        var json = JsonNode.Parse(File.ReadAllText(part))!.AsObject();
        json["accuracies"]![1] = 12.5;
        File.WriteAllText(part, json.ToJsonString());
        Assert.Equal(12.5, SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny(new ShardSpec(2, 0))).Accuracies[1]);
        // The finishing run counts shard 0's part and waits for shard 1.
        Assert.Equal([0], SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny(new ShardSpec(2))).Waiting!.Finished);
    }
}
