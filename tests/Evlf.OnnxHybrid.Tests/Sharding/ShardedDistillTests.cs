using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Sharding;
using Evlf.OnnxHybrid.Tests.Bundles;

namespace Evlf.OnnxHybrid.Tests.Sharding;

/// <summary>
/// A distill split over shards, each shard run as its own pipeline (as separate processes would, sharing only the
/// folders): every shard count gives the same stage outputs and images as one process, the finishing run waits for
/// missing parts and names them, and a part whose files changed after its marker is produced again.
/// </summary>
public class ShardedDistillTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-shards-").FullName;
    readonly string bundle;
    readonly string data;

    public ShardedDistillTests()
    {
        bundle = TinyBundle.Create(Path.Combine(root, "bundle"), withUNet: true);
        data = "folder:" + TinyBundle.Dataset(Path.Combine(root, "data"), perClass: 9);
    }

    public void Dispose() => Directory.Delete(root, true);

    DistillOptions Options(DistillMethod method, bool evlf, string name, ShardSpec? shards = null) => new()
    {
        Data = data, Bundle = bundle, Method = method, Evlf = evlf, Ipc = 2, Seed = 4, Out = Path.Combine(root, name), Steps = 3,
        Device = Evlf.OnnxHybrid.Onnx.ExecutionDevice.Cpu,
        Fusion = new FusionConfig(LatentSize: 4, Width: 16, Heads: 2, Layers: 1, ProjectorKernel: 2, ProjectorPool: 2),
        FusionTraining = new FusionTrainingOptions(Epochs: 1, BatchSize: 4, CheckpointEvery: 2),
        // 27 images, about half of them read per view: several units of 4 rows, so shards split the encoding.
        EncodeBatch = 4, FuseBatch = 5, Shards = shards,
    };

    /// <summary>Runs the shards of each wave (in the order given) and the finishing run after each, until it publishes.</summary>
    static DistillResult RunSharded(Func<ShardSpec, DistillOptions> options, int count, int[]? order = null)
    {
        for (int wave = 0; wave < 5; wave++)
        {
            var finish = new DistillationPipeline(options(new ShardSpec(count))).Run();
            if (finish.Published) return finish;
            Assert.Empty(finish.Waiting!.Finished);
            foreach (int i in order ?? Enumerable.Range(0, count).ToArray())
            {
                var part = new DistillationPipeline(options(new ShardSpec(count, i))).Run();
                Assert.False(part.Published);
                Assert.Equal(finish.Waiting.Stage, part.Waiting!.Stage);
                Assert.Contains(i, part.Waiting.Finished);
            }
        }
        throw new InvalidOperationException("the sharded run did not publish in 5 waves");
    }

    static void AssertSameImages(string expected, string actual)
    {
        var files = Directory.GetFiles(Path.Combine(expected, "images"), "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.NotEmpty(files);
        Assert.Equal(files.Select(f => Path.GetRelativePath(expected, f)),
            Directory.GetFiles(Path.Combine(actual, "images"), "*.png", SearchOption.AllDirectories).Order().Select(f => Path.GetRelativePath(actual, f)));
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(actual, Path.GetRelativePath(expected, f))));
    }

    static void AssertSameStageFiles(string expected, string actual, string stage)
    {
        var a = Directory.GetDirectories(Path.Combine(expected, RunFolder.StagesFolder), stage + "-*").Single();
        var b = Directory.GetDirectories(Path.Combine(actual, RunFolder.StagesFolder), stage + "-*").Single();
        Assert.Equal(Path.GetFileName(a), Path.GetFileName(b));
        var files = Directory.GetFiles(a, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != ".done").Order().ToArray();
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(b, Path.GetRelativePath(a, f))));
    }

    [Theory]
    [InlineData(DistillMethod.Mgd3, true, 3)]
    [InlineData(DistillMethod.Dit, false, 2)]
    [InlineData(DistillMethod.D4m, false, 5)]
    public void AnyShardCountGivesTheBytesOfOneProcess(DistillMethod method, bool evlf, int shards)
    {
        var one = new DistillationPipeline(Options(method, evlf, "one")).Run();
        var split = RunSharded(s => Options(method, evlf, "split", s), shards, order: [.. Enumerable.Range(0, shards).Reverse()]);
        Assert.Equal(one.Images, split.Images);
        AssertSameImages(one.Out, split.Out);
        AssertSameStageFiles(one.Out, split.Out, "latents");
        AssertSameStageFiles(one.Out, split.Out, "sample");
        if (evlf) AssertSameStageFiles(one.Out, split.Out, "fuse");
        // The parts are gone once merged.
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(split.Out, RunFolder.StagesFolder), "*.part-*"));
        // A shard of one more wave finds every stage finished and leaves publishing to the finishing run.
        File.Delete(Path.Combine(split.Out, "manifest.json"));
        var late = new DistillationPipeline(Options(method, evlf, "split", new ShardSpec(shards, 0))).Run();
        Assert.Equal("publish", late.Waiting!.Stage);
        Assert.False(File.Exists(Path.Combine(split.Out, "manifest.json")));
    }

    [Fact]
    public void TheFinishingRunNamesTheMissingShardsAndAChangedPartIsProducedAgain()
    {
        DistillOptions Shard(int? i) => Options(DistillMethod.Mgd3, false, "waits", new ShardSpec(4, i));
        var first = new DistillationPipeline(Shard(null)).Run();
        Assert.Equal(StageNames.Latents, first.Waiting!.Stage);
        Assert.Equal([0, 1, 2, 3], first.Waiting.Missing);
        Assert.Contains("none has run it yet", first.Waiting.Message);

        new DistillationPipeline(Shard(0)).Run();
        var again = new DistillationPipeline(Shard(2)).Run();
        Assert.Equal([0, 2], again.Waiting!.Finished);
        var waiting = new DistillationPipeline(Shard(null)).Run();
        Assert.Equal([1, 3], waiting.Waiting!.Missing);
        Assert.Contains("waits for shards 1, 3 of 4", waiting.Waiting.Message);
        Assert.False(File.Exists(Path.Combine(root, "waits", "manifest.json")));

        // Part 0's file changes after its marker: it no longer counts, and running shard 0 again produces it anew.
        var part0 = Directory.GetDirectories(Path.Combine(root, "waits", RunFolder.StagesFolder), "latents-*.part-0-of-4").Single();
        var file = Path.Combine(part0, "latents.safetensors");
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 1;
        File.WriteAllBytes(file, bytes);
        Assert.Equal([2], new DistillationPipeline(Shard(null)).Run().Waiting!.Finished);
        var redone = new DistillationPipeline(Shard(0)).Run();
        Assert.False(redone.Manifest.ContainsKey("stages"));
        Assert.Equal([0, 2], redone.Waiting!.Finished);

        // A shard of a later wave stops where the finishing run has not been yet.
        Assert.Equal(StageNames.Latents, new DistillationPipeline(Shard(1)).Run().Waiting!.Stage);
    }

    [Fact]
    public void AShardOfAMethodWithNoShardedStageHasNothingToDo()
    {
        var r = new DistillationPipeline(Options(DistillMethod.Random, false, "random", new ShardSpec(2, 1))).Run();
        Assert.False(r.Published);
        Assert.Equal(StageNames.Select, r.Waiting!.Stage);
        Assert.Contains("nothing to do", r.Waiting.Message);
        var finish = new DistillationPipeline(Options(DistillMethod.Random, false, "random", new ShardSpec(2))).Run();
        Assert.True(finish.Published);
        Assert.Equal(6, finish.Images);
    }

    [Fact]
    public void ShardOptionsAreChecked()
    {
        var e = Assert.Throws<UserInputException>(() => new DistillationPipeline(Options(DistillMethod.Dit, false, "bad", new ShardSpec(2, 2))).Run());
        Assert.Equal("ShardSpec.Index", e.Option);
        Assert.Contains("0..1", e.Message);
        e = Assert.Throws<UserInputException>(() => new DistillationPipeline(Options(DistillMethod.Dit, false, "bad", new ShardSpec(0))).Run());
        Assert.Equal("ShardSpec.Count", e.Option);
    }
}
