using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Tests.Cli;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

/// <summary>`evlf eval --soft-labels`: flags mapped onto the library's options, their errors, and a tiny run end to end.</summary>
public class SoftLabelCommandTests
{
    /// <summary><see cref="TinyData.Bars"/> as an IDX folder (classes.txt names the classes), for `--data idx:DIR`.</summary>
    static string WriteIdx(ImageDataset data, string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var (split, prefix) in new[] { (data.Train, "train"), (data.Test, "t10k") })
        {
            var pixels = Enumerable.Range(0, split.Count).SelectMany(i => split.Load(i).Pixels).ToArray();
            IdxReader.WriteImages(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), pixels, split.Count, 12, 12);
            IdxReader.WriteLabels(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), split.Labels());
        }
        File.WriteAllLines(Path.Combine(dir, "classes.txt"), data.ClassNames);
        return dir;
    }

    [Fact]
    public void BadSoftLabelFlagsAreExitTwoWithOneSentenceNamingTheFlag()
    {
        using var dir = new TempDir();
        var set = dir.Combine("set");
        TinyData.WriteSet(TinyData.FashionMnist, set, 1);
        string[] Eval(params string[] more) => ["eval", "--synthetic", set, "--quiet", .. more];

        var teacher = EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--teacher", "vgg11")));
        Assert.Contains("--teacher 'vgg11' is not a known classifier; expected student or convnet", teacher);
        var temperature = EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--temperature", "-1")));
        Assert.Equal("error: --temperature must be a finite number above 0; got -1.", temperature);
        Assert.StartsWith("error: --temperature must be a finite number above 0; got 0.", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--temperature", "0"))));
        Assert.Contains("--soft-labels must be a soft-label preset, rded or d4m; got 'kd'.", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "kd"))));
        Assert.Contains("--teacher-epochs must be at least 1; got 0.", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "d4m", "--teacher-epochs", "0"))));
        Assert.Contains("--batch must be at least 1", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--batch", "0"))));
        Assert.Contains("--lr must be a finite number above 0", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--lr", "0"))));
        var stray = EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--temperature", "4")));
        Assert.Contains("--temperature applies to soft-label evaluation only; expected it with --soft-labels", stray);
        Assert.Contains("--protocol and --soft-labels exclude each other", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--protocol", "idc"))));
        Assert.Contains("--dsa-strategy applies to the dsa protocol only", EvlfProcess.AssertUserError(EvlfProcess.Run(Eval("--soft-labels", "rded", "--dsa-strategy", "flip"))));
    }

    [Fact]
    public void TinySoftLabelEvaluationTrainsTheTeacherOnceAndRecordsIt()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(10);
        var idx = WriteIdx(data, dir.Combine("idx"));
        var set = dir.Combine("set");
        TinyData.WriteSet(data, set, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        var cache = dir.Combine("teachers");
        string[] args = ["eval", "--synthetic", set, "--data", "idx:" + idx, "--model", "convnet1", "--soft-labels", "rded", "--teacher", "student",
            "--teacher-epochs", "1", "--teacher-cache", cache, "--epochs", "2", "--repeats", "1", "--seed", "4", "--fresh"];

        var first = EvlfProcess.Run([.. args, "--quiet"]);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(set, "eval.json")))!;
        Assert.Equal("soft", (string?)json["protocol"]);
        Assert.Equal("convnet1", (string?)json["teacher"]);
        Assert.Equal(20.0, (double)json["temperature"]!);
        Assert.Equal(2, (int)json["epochs"]!);
        Assert.InRange((double)json["teacherAccuracy"]!, 0, 100);
        var entry = Assert.Single(Directory.GetFiles(cache));
        Assert.EndsWith(Teacher.Extension, entry);
        var written = File.GetLastWriteTimeUtc(entry);

        var second = EvlfProcess.Run(args);
        Assert.True(second.ExitCode == 0, second.Stderr + second.Stdout);
        Assert.Contains("soft labels (rded): teacher convnet1 at", second.Stdout);
        Assert.Contains("(cached)", second.Stderr + second.Stdout);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Assert.Single(Directory.GetFiles(cache))));
        var again = JsonNode.Parse(File.ReadAllText(Path.Combine(set, "eval.json")))!;
        Assert.Equal((double)json["mean"]!, (double)again["mean"]!);
    }
}
