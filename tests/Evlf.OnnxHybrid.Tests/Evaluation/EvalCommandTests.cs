using System.Globalization;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Cli;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class EvalCommandTests
{
    [Fact]
    public void EvaluatesARandomSubsetOfFashionMnistAndWritesEvalJson()
    {
        using var dir = new TempDir();
        var fm = TinyData.FashionMnist;
        var run = dir.Combine("random-ipc1");
        RealSubset.Write(fm, RandomSelection.Select(fm.Train, 10, 1, seed: 0), run, "random");

        var r = EvlfProcess.Run("eval", "--synthetic", run, "--data", "fashion-mnist", "--model", "convnet1", "--epochs", "2", "--repeats", "2", "--seed", "3", "--dsa-strategy", "none", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var line = r.Stdout.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith("accuracy: "));
        var parts = line["accuracy: ".Length..].Split(" ± ");
        double mean = double.Parse(parts[0], CultureInfo.InvariantCulture);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!;
        Assert.InRange(mean, (double)json["mean"]! - 0.0051, (double)json["mean"]! + 0.0051);
        Assert.Equal("random", (string?)json["method"]);
        Assert.Equal(1, (int)json["ipc"]!);
        Assert.Equal("convnet1", (string?)json["model"]);
        Assert.Equal("dsa", (string?)json["protocol"]);
        Assert.Equal(10000, (int)json["testImages"]!);
        Assert.Contains("DSA none", (string?)json["protocolSettings"]);
        Assert.Equal(new long[] { 3, 4 }, json["seeds"]!.AsArray().Select(s => (long)s!).ToArray());
    }

    [Fact]
    public void BadInputsAreExitTwoWithOneLine()
    {
        using var dir = new TempDir();
        var fm = TinyData.FashionMnist;
        var good = dir.Combine("good");
        TinyData.WriteSet(fm, good, 1);

        Assert.Contains("--synthetic", EvlfProcess.AssertUserError(EvlfProcess.Run("eval")));
        Assert.Contains("does not exist", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", dir.Combine("missing"))));
        Assert.Contains("manifest.json", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", dir.Path)));
        Assert.Contains("--epochs", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", good, "--epochs", "0")));
        Assert.Contains("not a known classifier", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", good, "--model", "vgg11")));
        Assert.Contains("Protocol", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", good, "--protocol", "kip")));
        Assert.Contains("'blur'", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", good, "--dsa-strategy", "flip_blur")));

        var empty = dir.Combine("empty");
        TinyData.WriteSet(fm, empty, 0);
        Assert.Contains("no images", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", empty, "--epochs", "1")));

        var foreign = dir.Combine("foreign");
        TinyData.WriteSet(TinyData.Bars(2), foreign, 1);
        Assert.Contains("'left'", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", foreign, "--epochs", "1")));
    }
}
