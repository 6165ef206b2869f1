using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Evaluation.Reports;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Reports;

public class RunRecordTests
{
    internal static EvaluationResult Eval(double[] accuracies, string model = "convnet3", int epochs = 1000, string protocol = "dsa") => new()
    {
        Method = "mgd3",
        Ipc = 10,
        Model = model,
        Protocol = protocol,
        ProtocolSettings = "SGD lr 0.01, DSA color_crop_cutout_flip_scale_rotate",
        Epochs = epochs,
        Seed = 0,
        Seeds = accuracies.Select((_, i) => (long)i).ToArray(),
        Accuracies = accuracies,
        WallSeconds = 1,
        TrainSeconds = accuracies.Select(_ => 1.0).ToArray(),
        TrainImages = 100,
        Data = "fashion-mnist",
        Synthetic = "/runs/x",
        Images = 100,
        ImagesPerClass = Enumerable.Repeat(10, 10).ToArray(),
        TestImages = 10000,
        Threads = 2,
    };

    [Fact]
    public void ReadsTheDistillManifestAndEvalJson()
    {
        using var dir = new TempDir();
        var run = dir.Combine("mgd3-evlf-ipc10");
        Directory.CreateDirectory(run);
        // The fields DistillationPipeline.Run puts in manifest.json.
        File.WriteAllText(Path.Combine(run, "manifest.json"), new JsonObject
        {
            ["method"] = "mgd3", ["evlf"] = true, ["finetune"] = false, ["ipc"] = 10, ["seed"] = 3,
            ["data"] = new JsonObject { ["spec"] = "fashion-mnist", ["train"] = 60000 },
            ["options"] = new JsonObject { ["Method"] = 4, ["Ipc"] = 10 },
            ["bundle"] = new JsonObject { ["path"] = "/b", ["denoiser"] = "dit", ["hashes"] = new JsonObject { ["dit.onnx"] = "bb", ["bundle.json"] = "aa" } },
        }.ToJsonString());
        Eval([80, 82]).Write(Path.Combine(run, EvaluationResult.FileName));

        var r = RunRecord.Read(run);
        Assert.Equal(("mgd3", true, false, 10, 3L), (r.Method, r.Evlf, r.Finetune, r.Ipc, r.Seed));
        Assert.Equal("mgd3+EVLF", r.Label);
        Assert.Equal("mgd3+EVLF+select×10", (r with { Candidates = 10 }).Label);
        Assert.Equal("mgd3-evlf-ipc10", r.Name);
        Assert.Equal("fashion-mnist", r.DataSpec);
        Assert.False(r.HasImages);
        Assert.Equal(new Dictionary<string, string> { ["bundle.json"] = "aa", ["dit.onnx"] = "bb" }, r.BundleHashes);
        Assert.Equal("4031d5ab", r.BundleId); // printf 'bundle.json=aa\ndit.onnx=bb\n' | sha256sum
        var a = r.Accuracy!;
        Assert.Equal((81.0, 1.0, 2, 1000, "dsa", "convnet3"), (a.Mean, a.Std, a.Repeats, a.Epochs, a.Protocol, a.Model));
        Assert.True(a.IsDsaReference);
        Assert.False((a with { Epochs = 300 }).IsDsaReference);
        Assert.False(a.IsDcReference);
        var dc = a with { Epochs = 300, ProtocolSettings = "SGD lr 0.01 …, DSA none (one op per batch, per-sample parameters), cross-entropy" };
        Assert.True(dc.IsDcReference);
        Assert.False(dc.IsDsaReference);
        Assert.False((dc with { Epochs = 1000 }).IsDcReference);
    }

    [Theory]
    [InlineData(2, 0.3, "mgd3+EVLF+real0.3+select×10")] // SampleStart.Real as the manifest writes it: the enum's number
    [InlineData("Real", 0.5, "mgd3+EVLF+real0.5+select×10")]
    [InlineData(3, 0.3, "mgd3+EVLF+real-neighbours0.3+select×10")] // SampleStart.RealNeighbours
    [InlineData("RealNeighbours", 0.2, "mgd3+EVLF+real-neighbours0.2+select×10")]
    [InlineData(7, 0.3, "mgd3+EVLF+select×10")] // a start this evlf does not know
    [InlineData(1, 0.7, "mgd3+EVLF+select×10")] // from the modes: no real start
    [InlineData(null, 0.7, "mgd3+EVLF+select×10")] // the method's own start
    [InlineData(2, 0.2, "mgd3+EVLF+real0.2+detail+select×10", true)] // the default from IPC 50 up
    [InlineData(3, 0.3, "mgd3+EVLF+real-neighbours0.3+detail+select×10", true)]
    [InlineData(1, 0.2, "mgd3+EVLF+select×10", true)] // detail only goes with a real start
    [InlineData(2, 0.2, "mgd3+EVLF+real0.2+detail+select×10/mode", true, true)] // one candidate of each mode first
    [InlineData(null, 0.7, "mgd3+EVLF+select×10/mode", false, true)]
    [InlineData(2, 0.2, "mgd3+EVLF+real0.2+detail+own-view+select×10", true, false, true)] // the starts' own orientation
    [InlineData(1, 0.2, "mgd3+EVLF+select×10", false, false, true)] // own view only goes with a real start
    [InlineData(0, 0.7, "mgd3+EVLF+select×10-discriminative", false, false, false, 3)] // CandidateSelection.Discriminative
    [InlineData(0, 0.7, "mgd3+EVLF+select×10-kernel-herding/mode", false, true, false, "KernelHerding")]
    [InlineData(0, 0.7, "mgd3+EVLF+select×10-k-center", false, false, false, 1)]
    [InlineData(0, 0.7, "mgd3+EVLF+select×10", false, false, false, 0)] // herding, the default
    [InlineData(0, 0.7, "mgd3+EVLF+select×10", false, false, false, 9)] // a selection this evlf does not know
    public void TheLabelNamesARealStartAndItsStrength(object? start, double strength, string label, bool detail = false, bool perMode = false, bool ownView = false,
        object? selection = null)
    {
        using var dir = new TempDir();
        var run = dir.Combine("run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "manifest.json"), new JsonObject
        {
            ["method"] = "mgd3", ["evlf"] = true, ["ipc"] = 10, ["seed"] = 0,
            ["options"] = new JsonObject
            {
                ["Candidates"] = 10, ["Strength"] = strength, ["RealDetail"] = detail, ["OnePerMode"] = perMode, ["OwnView"] = ownView,
                ["Start"] = start switch { int i => JsonValue.Create(i), string t => JsonValue.Create(t), _ => null },
                ["Selection"] = selection switch { int i => JsonValue.Create(i), string t => JsonValue.Create(t), _ => null },
            },
        }.ToJsonString());
        var r = RunRecord.Read(run);
        Assert.Equal(label, r.Label);
        Assert.Equal(label.Contains("+real") ? strength : null, r.RealStartStrength);
        Assert.Equal(label.Contains("+detail"), r.RealDetail);
        Assert.Equal(perMode, r.OnePerMode);
        Assert.Equal(label.Contains("+own-view"), r.OwnView);
    }

    [Fact]
    public void ARunWithoutEvalJsonHasNoAccuracyAndIpcComesFromTheImageSet()
    {
        using var dir = new TempDir();
        var run = dir.Combine("set");
        TinyData.WriteSet(TinyData.Bars(3), run, 2, new JsonObject { ["method"] = "Herding" });
        var r = RunRecord.Read(run + "/");
        Assert.Null(r.Accuracy);
        Assert.Equal(("herding", 2, true, "set"), (r.Method, r.Ipc, r.HasImages, r.Name));
        Assert.Empty(r.BundleHashes);
        Assert.Null(r.BundleId);
        Assert.Equal("herding", r.Label);
    }

    [Fact]
    public void MissingOrBrokenFilesAreUserErrorsNamingThem()
    {
        using var dir = new TempDir();
        Assert.Contains("does not exist", Assert.Throws<UserInputException>(() => RunRecord.Read(dir.Combine("nope"))).Message);
        Assert.Contains("has no manifest.json", Assert.Throws<UserInputException>(() => RunRecord.Read(dir.Path)).Message);
        File.WriteAllText(dir.Combine("manifest.json"), "{ not json");
        Assert.Contains("manifest.json' is not valid JSON", Assert.Throws<UserInputException>(() => RunRecord.Read(dir.Path)).Message);
        File.WriteAllText(dir.Combine("manifest.json"), "{}");
        File.WriteAllText(dir.Combine("eval.json"), "{\"model\": \"convnet3\"}");
        Assert.Contains("no numeric 'mean'", Assert.Throws<UserInputException>(() => RunRecord.Read(dir.Path)).Message);
    }
}
