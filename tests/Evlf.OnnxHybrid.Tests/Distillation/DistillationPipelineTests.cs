using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Tests.Bundles;
using Evlf.OnnxHybrid.Tests.Cli;

namespace Evlf.OnnxHybrid.Tests.Distillation;

/// <summary>
/// Every method (± EVLF, ± fine-tune) on a tiny bundle and dataset: the right number of images per class,
/// a complete manifest, identical bytes for the same seed, and a killed run that resumes to the same result.
/// </summary>
public class DistillationPipelineTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-distill-").FullName;
    readonly string bundle;
    readonly string data;

    public DistillationPipelineTests()
    {
        bundle = TinyBundle.Create(Path.Combine(root, "bundle"), withUNet: true);
        data = "folder:" + TinyBundle.Dataset(Path.Combine(root, "data"));
    }

    public void Dispose() => Directory.Delete(root, true);

    DistillOptions Options(DistillMethod method, bool evlf, int ipc, string name, bool finetune = false) => new()
    {
        Data = data, Bundle = bundle, Method = method, Evlf = evlf, Finetune = finetune, Ipc = ipc, Seed = 1,
        Out = Path.Combine(root, name), Steps = 4, Device = Evlf.OnnxHybrid.Onnx.ExecutionDevice.Cpu,
        Fusion = new FusionConfig(LatentSize: 4, Width: 16, Heads: 2, Layers: 1, ProjectorKernel: 2, ProjectorPool: 2),
        FusionTraining = new FusionTrainingOptions(Epochs: 1, BatchSize: 4, CheckpointEvery: 2),
        FinetuneSteps = 3,
        Minimax = new Evlf.OnnxHybrid.Training.MinimaxOptions { Steps = 4, BatchSize = 4, MemorySize = 3 },
    };

    static void AssertSet(DistillResult r, int ipc, string method)
    {
        foreach (var cls in new[] { "a", "b", "c" })
            Assert.Equal(ipc, Directory.GetFiles(Path.Combine(r.Out, "images", cls), "*.png").Length);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!;
        Assert.Equal(method, manifest["method"]!.GetValue<string>());
        Assert.Equal(ipc, manifest["ipc"]!.GetValue<int>());
        Assert.NotNull(manifest["stages"]);
        Assert.NotNull(manifest["commit"]);
        // The library that made the run, as built (not a git call in the caller's folder).
        Assert.Equal(Evlf.OnnxHybrid.Training.Provenance.LibraryVersion, manifest["library"]!.GetValue<string>());
        Assert.NotNull(manifest["data"]!["id"]);
    }

    static IEnumerable<string?> StagesRun(JsonNode manifest) => manifest["stages"]!.AsArray().Select(s => (string?)s!["stage"]);

    [Theory]
    [InlineData(DistillMethod.Random, false, 1)]
    [InlineData(DistillMethod.Random, false, 3)]
    [InlineData(DistillMethod.Herding, false, 2)]
    [InlineData(DistillMethod.Dit, false, 2)]
    [InlineData(DistillMethod.Mgd3, false, 2)]
    [InlineData(DistillMethod.Mgd3, true, 1)]
    [InlineData(DistillMethod.D4m, false, 2)]
    [InlineData(DistillMethod.D4m, true, 1)]
    [InlineData(DistillMethod.Minimax, false, 2)]
    [InlineData(DistillMethod.Minimax, true, 1)]
    public void EveryMethodWritesIpcImagesPerClass(DistillMethod method, bool evlf, int ipc)
    {
        var options = Options(method, evlf, ipc, $"{method}-{evlf}-{ipc}");
        var r = new DistillationPipeline(options).Run();
        AssertSet(r, ipc, method.ToString().ToLowerInvariant());
        Assert.Equal(3 * ipc, r.Images);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!;
        Assert.Equal(evlf && method is DistillMethod.Mgd3 or DistillMethod.D4m or DistillMethod.Minimax, manifest["evlf"]!.GetValue<bool>());
        if (evlf) Assert.NotNull(manifest["fusion"]!["log"]);
        Assert.Equal(DistillRecipe.For(options).Stages, StagesRun(manifest));
    }

    [Fact]
    public void SameSeedSameBytesAndKilledRunResumes()
    {
        var a = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 2, "a")).Run();
        using var cts = new CancellationTokenSource();
        int reports = 0;
        var pipeline = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 2, "b"),
            progress: new InlineProgress<WorkProgress>(p => { if (p.Task == "fusion" && ++reports == 2) cts.Cancel(); }));
        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.Run(cts.Token));
        Assert.False(File.Exists(Path.Combine(root, "b", "manifest.json")));
        var b = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 2, "b")).Run();
        foreach (var file in Directory.GetFiles(Path.Combine(a.Out, "images"), "*.png", SearchOption.AllDirectories))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(b.Out, Path.GetRelativePath(a.Out, file))));

        // A re-run with nothing changed reuses every stage.
        var again = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 2, "a")).Run();
        Assert.All(again.Manifest["stages"]!.AsArray(), s => Assert.True(s!["cached"]!.GetValue<bool>()));
    }

    [Fact]
    public void TrainFusionModuleWritesTheModuleAndADistillWithTheSameCacheReusesIt()
    {
        string cache = Path.Combine(root, "cache");
        var r = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 1, "fusion-only") with { Cache = cache }).TrainFusionModule();
        Assert.Equal(DistillationPipeline.FusionModuleFiles.Append("manifest.json").Order(),
            Directory.GetFiles(r.Out).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order()); // .evlf-* are the folder's marker and lock
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!;
        Assert.Equal("fusion-module", (string?)manifest["kind"]);
        Assert.Equal(new[] { "latents", "text", "fusion" }, StagesRun(manifest));
        Assert.InRange((double)manifest["fusion"]!["test"]!["Top1"]!, 0, 1);
        Assert.NotNull(manifest["fusion"]!["log"]);
        Assert.Equal(CrossAttentionFusion.FusedOutput, Evlf.OnnxHybrid.Onnx.OnnxModel.Load(Path.Combine(r.Out, "fusion.onnx")).Graph.Output.Single().Name);

        var distill = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 1, "after-fusion") with { Cache = cache }).Run();
        var stages = distill.Manifest["stages"]!.AsArray().ToDictionary(s => (string)s!["stage"]!, s => (bool)s!["cached"]!);
        Assert.True(stages["latents"] && stages["text"] && stages["fusion"]);
        Assert.False(stages["sample"]);
    }

    [Fact]
    public void LatentsStageEncodesTheViewsTheRunReadsAndTheSameValuesAsAFullEncode()
    {
        static (TorchSharp.torch.Tensor Plain, TorchSharp.torch.Tensor Flipped) Latents(DistillResult r)
        {
            string dir = Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "latents-*").Single();
            return (StageTensors.Load(dir, "mean"), StageTensors.Load(dir, "mean_flip"));
        }
        static TorchSharp.torch.Tensor Present(TorchSharp.torch.Tensor latents) => latents.isnan().logical_not().flatten(1).all(1);

        // Fusion on a pool of 8: every image has the view its coin picks, the pool both, nothing else is encoded.
        var fused = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 1, "rows-evlf") with
            { FusionTraining = new FusionTrainingOptions(Epochs: 1, BatchSize: 4, CheckpointEvery: 2, MaxSamples: 8) }).Run();
        var (plain, flipped) = Latents(fused);
        var (hasPlain, hasFlipped) = (Present(plain), Present(flipped));
        long n = plain.shape[0];
        Assert.True(hasPlain.logical_or(hasFlipped).all().item<bool>());
        Assert.Equal(8, hasPlain.logical_and(hasFlipped).sum().item<long>());
        Assert.Equal(n + 8, hasPlain.sum().item<long>() + hasFlipped.sum().item<long>());

        // Without fusion only the coins' views; the rows both runs encoded hold the same bits (a row's latent does
        // not depend on which other images share its encoder call).
        var plainRun = new DistillationPipeline(Options(DistillMethod.Mgd3, false, 1, "rows-plain")).Run();
        var (plain2, flipped2) = Latents(plainRun);
        Assert.Equal(n, Present(plain2).sum().item<long>() + Present(flipped2).sum().item<long>());
        var both = Present(plain2).logical_and(hasPlain);
        Assert.True(both.any().item<bool>());
        Assert.True(plain2[both].equal(plain[both]).all().item<bool>());
        var bothFlipped = Present(flipped2).logical_and(hasFlipped);
        Assert.True(flipped2[bothFlipped].equal(flipped[bothFlipped]).all().item<bool>());
    }

    [Fact]
    public void FusionTrainingWithoutAnOptimizerStepIsOneClearLine()
    {
        var e = Assert.Throws<UserInputException>(() => new DistillationPipeline(Options(DistillMethod.Mgd3, true, 1, "no-step") with
            { FusionTraining = new FusionTrainingOptions(Epochs: 1, BatchSize: 4, MaxSamples: 5) }).Run());
        Assert.Contains("no optimizer step", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ProgressCountsUpAndNoticesGoToTheLogger()
    {
        var logger = new ListLogger();
        var reports = new List<WorkProgress>();
        var r = new DistillationPipeline(Options(DistillMethod.Dit, false, 1, "progress"), logger, new InlineProgress<WorkProgress>(reports.Add)).Run();
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Information && l.Message == $"wrote {r.Images} images to {r.Out}");
        // The result in memory: the set's images with their labels, one per class at IPC 1.
        var set = r.OpenSet();
        Assert.Equal(["a", "b", "c"], set.ClassNames);
        Assert.Equal(r.Images, set.Train.Count);
        Assert.Equal([0, 1, 2], set.Train.Labels().Order());
        Assert.Equal(0, set.Test.Count);
        var sampling = reports.Where(p => p.Task.StartsWith("sample ")).GroupBy(p => p.Task).ToList();
        Assert.Equal(3, sampling.Count);   // one task per class
        foreach (var task in sampling)
        {
            var done = task.Select(p => p.Done).ToList();
            Assert.Equal(done.Order(), done);                 // never counts down
            Assert.Equal(1, done[0]);                          // the first report is the first finished step
            Assert.Equal(task.Last().Total, done[^1]);
        }
    }

    [Fact]
    public void FinetuneWritesANewBundleAndSamplesFromIt()
    {
        var r = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 1, "ft", finetune: true)).Run();
        AssertSet(r, 1, "mgd3");
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!;
        Assert.Equal(DistillRecipe.For(Options(DistillMethod.Mgd3, true, 1, "ft", finetune: true)).Stages, StagesRun(manifest));
        string tuned = manifest["finetuned_bundle"]!.GetValue<string>();
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(bundle, "dit.onnx")), File.ReadAllBytes(Path.Combine(tuned, "dit.onnx")));
    }

    [Fact]
    public void MinimaxSamplesFromItsFineTunedDitAndKeysTheSamplesOnIt()
    {
        var options = Options(DistillMethod.Minimax, false, 1, "mm");
        var r = new DistillationPipeline(options).Run();
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!;
        string tuned = manifest["finetuned_bundle"]!.GetValue<string>();
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(bundle, "dit.onnx")), File.ReadAllBytes(Path.Combine(tuned, "dit.onnx")));
        Assert.Equal(4, manifest["options"]!["Minimax"]!["Steps"]!.GetValue<int>());

        // Other minimax settings: a new fine-tune and new samples (the sample stage keys on the fine-tuned DiT's bytes).
        var other = new DistillationPipeline(options with { Out = Path.Combine(root, "mm2"), Cache = Path.Combine(r.Out, ".stages"),
            Minimax = options.Minimax with { Steps = 5 } }).Run();
        var cached = other.Manifest["stages"]!.AsArray().ToDictionary(s => s!["stage"]!.GetValue<string>(), s => s!["cached"]!.GetValue<bool>());
        Assert.True(cached["latents"]);
        Assert.False(cached["minimax"]);
        Assert.False(cached["sample"]);
    }

    [Fact]
    public void MaxTrainKeepsTheFirstImagesOfEachSplit()
    {
        var r = new DistillationPipeline(Options(DistillMethod.Mgd3, true, 1, "max-train") with { MaxTrain = 20 }).Run();
        AssertSet(r, 1, "mgd3");
        var data = JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!["data"]!;
        Assert.Equal(20, data["train"]!.GetValue<int>());   // of 24: classes a and b whole, 4 of c
        Assert.Equal(20, data["test"]!.GetValue<int>());
        var viaCli = EvlfProcess.Run("distill", "--data", this.data, "--bundle", bundle, "--method", "random", "--ipc", "1", "--max-train", "20", "--out", Path.Combine(root, "max-train-cli"), "--quiet");
        Assert.True(viaCli.ExitCode == 0, viaCli.Stderr);
        Assert.Equal(20, JsonNode.Parse(File.ReadAllText(Path.Combine(root, "max-train-cli", "manifest.json")))!["data"]!["maxTrain"]!.GetValue<int>());
        var e = Assert.Throws<UserInputException>(() => new DistillationPipeline(Options(DistillMethod.Random, false, 1, "max-train-0") with { MaxTrain = 0 }).Run());
        Assert.Contains("MaxTrain", e.Message);
    }

    [Fact]
    public void BadOptionsAreOneClearLine()
    {
        string o = Path.Combine(root, "bad");
        Assert.Contains("--ipc", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", bundle, "--ipc", "0", "--out", o)));
        Assert.Contains("larger than class", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", bundle, "--ipc", "9", "--out", o, "--quiet")));
        Assert.Contains("--method", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--method", "gan", "--out", o)));
        Assert.Contains("--max-train", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--max-train", "0", "--out", o)));
        string noDit = TinyBundle.Create(Path.Combine(root, "nodit"), m => m with { Denoisers = new() { ["unet"] = TinyBundle.WithUNet(m).Denoisers["unet"] }, TextEncoder = TinyBundle.WithUNet(m).TextEncoder }, withUNet: true);
        Assert.Contains("dit-class", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", noDit, "--method", "mgd3", "--ipc", "1", "--out", o, "--quiet")));
        string noPattern = TinyBundle.Create(Path.Combine(root, "nopattern"), m => m with { Denoisers = new() { ["dit"] = m.Denoisers["dit"] with { FinetunePattern = null } } });
        Assert.Contains("--finetune", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", noPattern, "--method", "mgd3", "--finetune", "--no-evlf", "--ipc", "1", "--out", o, "--quiet")));

        Assert.Contains("--finetune", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", bundle, "--method", "minimax", "--finetune", "--ipc", "1", "--out", o, "--quiet")));
        Assert.Contains("--minimax-steps must be at least 1; got 0.", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", bundle, "--method", "minimax", "--minimax-steps", "0", "--ipc", "1", "--out", o, "--quiet")));
        Assert.Contains("--minimax-memory", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", bundle, "--method", "minimax", "--minimax-memory", "0", "--ipc", "1", "--out", o, "--quiet")));
        Assert.Contains("minimax", EvlfProcess.AssertUserError(EvlfProcess.Run("distill", "--data", data, "--bundle", noPattern, "--method", "minimax", "--ipc", "1", "--out", o, "--quiet")));

        Assert.Contains("--fusion-samples", EvlfProcess.AssertUserError(EvlfProcess.Run("train-fusion", "--data", data, "--bundle", bundle, "--fusion-samples", "1", "--fusion-epochs", "1", "--out", o)));
        Assert.Contains("text encoder", EvlfProcess.AssertUserError(EvlfProcess.Run("train-fusion", "--data", data, "--bundle", noPattern, "--out", o, "--quiet")));
        Assert.False(File.Exists(Path.Combine(o, "fusion.onnx")));
    }
}
