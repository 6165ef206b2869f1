using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class SyntheticSetEvaluationTests
{
    static EvaluationOptions Tiny(int repeats = 2, int epochs = 2) => new()
    {
        Model = ClassifierArchitecture.Parse("convnet1"),
        Protocol = new DsaProtocol(new DsaProtocolOptions { Epochs = epochs }),
        Repeats = repeats,
        Seed = 10,
        Normalization = Normalization.MeanStd([0.3f], [0.3f]),
    };

    [Fact]
    public void EvalJsonHoldsEveryAccuracyTheirMeanAndPopulationStd()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(6);
        var run = dir.Combine("run");
        TinyData.WriteSet(data, run, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });

        var result = SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny());
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!;
        Assert.Equal("random", (string?)json["method"]);
        Assert.Equal(2, (int)json["ipc"]!);
        Assert.Equal("convnet1", (string?)json["model"]);
        Assert.Equal("dsa", (string?)json["protocol"]);
        Assert.Contains("DSA color_crop_cutout_flip_scale_rotate", (string?)json["protocolSettings"]);
        Assert.Contains("batch 256", (string?)json["protocolSettings"]);
        Assert.Equal(2, (int)json["epochs"]!);
        Assert.Equal(new long[] { 10, 11 }, json["seeds"]!.AsArray().Select(s => (long)s!).ToArray());
        var accuracies = json["accuracies"]!.AsArray().Select(a => (double)a!).ToArray();
        Assert.Equal(2, accuracies.Length);
        Assert.All(accuracies, a => Assert.InRange(a, 0, 100));
        double mean = accuracies.Average();
        Assert.Equal(mean, (double)json["mean"]!, 9);
        Assert.Equal(Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 2), (double)json["std"]!, 9);
        Assert.True((double)json["wallSeconds"]! > 0);
        Assert.Equal(6, (int)json["images"]!);
        Assert.Equal(18, (int)json["testImages"]!);
        Assert.Equal(new[] { 2, 2, 2 }, json["imagesPerClass"]!.AsArray().Select(n => (int)n!).ToArray());
        Assert.Equal(result.Accuracies, accuracies);
        Assert.Equal(new[] { "eval.json", "images", "manifest.json" }, Directory.EnumerateFileSystemEntries(run).Select(Path.GetFileName).Order().ToArray());

        // Re-running replaces the file; the same seeds give the same accuracies.
        var again = SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny());
        Assert.Equal(result.Accuracies, again.Accuracies);
    }

    [Fact]
    public void ResumingKeepsTheRepeatsOfTheSameImagesAndSettingsOnly()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(6);
        var run = dir.Combine("run");
        TinyData.WriteSet(data, run, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        var fresh = SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 3));

        // Stopped after its first repeat: no eval.json, the partial file holds that repeat.
        using var cts = new CancellationTokenSource();
        var stopAfterFirst = new InlineProgress<WorkProgress>(p => { if (p.Status?.StartsWith("accuracy", StringComparison.Ordinal) == true) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny(repeats: 3) with { Resume = true }, stopAfterFirst, cts.Token));
        Assert.False(File.Exists(Path.Combine(run, "eval.json")));
        var partial = EvaluationResult.TryRead(Path.Combine(run, SyntheticSetEvaluation.PartialFileName))!;
        Assert.Equal(fresh.Accuracies.Take(1), partial.Accuracies);

        // Resuming trains repeats 2 and 3 only and lands on the same bytes as the uninterrupted run.
        var resumed = SyntheticSetEvaluation.RunAndWrite(run, data, "bars", Tiny(repeats: 3) with { Resume = true });
        Assert.Equal(fresh.Accuracies, resumed.Accuracies);
        Assert.Equal(new long[] { 10, 11, 12 }, resumed.Seeds);
        Assert.False(File.Exists(Path.Combine(run, SyntheticSetEvaluation.PartialFileName)));

        // A kept repeat is taken as written (here a marker value), for fewer repeats too ...
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!.AsObject();
        json["accuracies"] = new JsonArray(101.0, 102.0, 103.0);
        File.WriteAllText(Path.Combine(run, "eval.json"), json.ToJsonString());
        Assert.Equal(new[] { 101.0, 102.0 }, SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 2) with { Resume = true }).Accuracies);
        // ... but not for other settings, nor without Resume, nor once an image changed.
        Assert.DoesNotContain(101.0, SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 1, epochs: 1) with { Resume = true }).Accuracies);
        Assert.DoesNotContain(101.0, SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 1)).Accuracies);
        var image = Directory.GetFiles(Path.Combine(run, "images"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var original = ImageCodec.Decode(image, 1);
        ImageCodec.WritePng(image, new ByteImage(original.Height, original.Width, original.Channels, original.Pixels.Select(b => (byte)(255 - b)).ToArray()));
        Assert.DoesNotContain(101.0, SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 1) with { Resume = true }).Accuracies);
    }

    [Fact]
    public void EachRepeatCountsItsEpochsUpAndEndsWithItsAccuracy()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(6);
        var run = dir.Combine("run");
        TinyData.WriteSet(data, run, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        var progress = new ProgressLog();
        var result = SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 2, epochs: 3), progress);
        progress.AssertCountsUpToTotal($"repeat 1/2 (seed {result.Seeds[0]})", $"repeat 2/2 (seed {result.Seeds[1]})");
        Assert.All(progress.Items, p => Assert.Equal(3, p.Total));
        var last = progress.Items.Where(p => p.Task.StartsWith("repeat 2/2", StringComparison.Ordinal)).Last();
        Assert.Equal(FormattableString.Invariant($"accuracy {result.Accuracies[1]:F2}%"), last.Status);
    }

    [Fact]
    public void IpcFallsBackToTheImageCountAndClassesAreMatchedByName()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(6);
        var run = dir.Combine("run");
        // The set names its classes in another order and case; images are written under the set's own labels.
        using (var w = SyntheticSetWriter.Create(run, ["TOP", "diagonal", "left"], 1))
        {
            w.Add(0, data.Train.Load(1));
            w.Add(1, data.Train.Load(2));
            w.Add(2, data.Train.Load(0));
            w.Commit();
        }
        Assert.Equal(new[] { 1, 2, 0 }, SyntheticSetEvaluation.MapClasses(["TOP", "diagonal", "left"], data.ClassNames, run, "bars"));
        var result = SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 1, epochs: 1));
        Assert.Null(result.Method);
        Assert.Equal(1, result.Ipc);
        Assert.Equal(new[] { 1, 1, 1 }, result.ImagesPerClass);
    }

    [Fact]
    public void BadRunFoldersAreUserErrors()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(3);
        Assert.Contains("does not exist", Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(dir.Combine("nope"), data, "bars", Tiny())).Message);
        Assert.Contains("manifest.json", Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(dir.Path, data, "bars", Tiny())).Message);

        var empty = dir.Combine("empty");
        TinyData.WriteSet(data, empty, 0);
        Assert.Contains("no images", Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(empty, data, "bars", Tiny())).Message);

        var foreign = dir.Combine("foreign");
        TinyData.WriteSet(data, foreign, 1, classNames: ["left", "top", "circle"]);
        var e = Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(foreign, data, "bars", Tiny()));
        Assert.Contains("'circle'", e.Message);

        var partial = dir.Combine("partial");
        using (var w = SyntheticSetWriter.Create(partial, ["left", "top"], 1))
        {
            w.Add(0, data.Train.Load(0));
            w.Commit();
        }
        Assert.Contains("lacks class(es) 'diagonal'", Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(partial, data, "bars", Tiny())).Message);
        Assert.Contains("Repeats", Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(partial, data, "bars", Tiny(repeats: 0))).Message);
    }

    [Fact]
    public void ImagesOfAnotherSizeAreResizedToTheTestSize()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(3);
        var run = dir.Combine("run");
        using (var w = SyntheticSetWriter.Create(run, data.ClassNames, 1))
        {
            for (int c = 0; c < 3; c++) w.Add(c, ImageTransforms.Resize(data.Train.Load(c), 16, 16));
            w.Commit();
        }
        var result = SyntheticSetEvaluation.Run(run, data, "bars", Tiny(repeats: 1, epochs: 1));
        Assert.Equal("16x16", result.ResizedFrom);
    }
}
