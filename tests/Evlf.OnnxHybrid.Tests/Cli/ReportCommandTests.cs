using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Tests.Data;
using Evlf.OnnxHybrid.Tests.Evaluation;
using Evlf.OnnxHybrid.Tests.Evaluation.Reports;

namespace Evlf.OnnxHybrid.Tests.Cli;

public class ReportCommandTests
{
    /// <summary>The bars dataset (3 classes of 12×12, 40 per class) as an IDX folder with classes.txt: a tiny real dataset for --data idx:DIR.</summary>
    static ImageDataset WriteBarsIdx(string dir)
    {
        var bars = TinyData.Bars(perClass: 40);
        Directory.CreateDirectory(dir);
        foreach (var (prefix, split) in new[] { ("train", bars.Train), ("t10k", bars.Test) })
        {
            var pixels = Enumerable.Range(0, split.Count).SelectMany(i => split.Load(i).Pixels).ToArray();
            IdxReader.WriteImages(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), pixels, split.Count, 12, 12);
            IdxReader.WriteLabels(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), split.Labels());
        }
        File.WriteAllLines(Path.Combine(dir, "classes.txt"), bars.ClassNames);
        return bars;
    }

    /// <summary>Two run folders as distill and eval leave them: an evaluated random subset, and an MGD3+EVLF set of 24×24 images (another size than the real 12×12) without eval.json.</summary>
    static (string Random, string Mgd3) WriteRuns(string root, ImageDataset bars, string dataSpec)
    {
        var random = Path.Combine(root, "runs", "random-ipc2");
        TinyData.WriteSet(bars, random, 2, new JsonObject
        {
            ["method"] = "random", ["evlf"] = false, ["finetune"] = false, ["ipc"] = 2, ["seed"] = 0,
            ["data"] = new JsonObject { ["spec"] = dataSpec },
        });
        (RunRecordTests.Eval([71.0, 73.0]) with { Method = "random", Ipc = 2 }).Write(Path.Combine(random, EvaluationResult.FileName));

        var mgd3 = Path.Combine(root, "runs", "mgd3-evlf-ipc2");
        using (var w = SyntheticSetWriter.Create(mgd3, bars.ClassNames, 1))
        {
            for (int i = 0; i < 6; i++) w.Add(bars.Train.LabelOf(i + 3), ImageTransforms.Resize(bars.Train.Load(i + 3), 24, 24));
            w.Commit(new JsonObject
            {
                ["method"] = "mgd3", ["evlf"] = true, ["finetune"] = false, ["ipc"] = 2, ["seed"] = 0,
                ["data"] = new JsonObject { ["spec"] = dataSpec },
            });
        }
        return (random, mgd3);
    }

    [Fact]
    public void WritesTablesPendingRowsAndFiguresFromTwoRuns()
    {
        using var dir = new TempDir();
        var data = dir.Combine("bars-idx");
        var bars = WriteBarsIdx(data);
        var (random, mgd3) = WriteRuns(dir.Path, bars, $"idx:{data}");
        var md = dir.Combine("docs", "RESULTS.md");

        // No --data: the runs' manifests agree on idx:DIR.
        var r = EvlfProcess.Run("report", random, mgd3, "--out", md, "--knn", "5", "--real-per-class", "30",
            "--pending", "d4m+EVLF:2:fusion module not trained yet");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("report: ", r.Stderr); // progress on stderr
        Assert.Contains("2 run(s), 1 evaluated", r.Stdout);

        var text = File.ReadAllText(md);
        var lines = text.Split('\n');
        Assert.Contains("| method | IPC 2 |", lines);
        Assert.Contains("| random | 72.00 ± 1.00 |", lines);
        Assert.Contains("| mgd3+EVLF | not evaluated |", lines);
        foreach (var label in new[] { "herding", "dit", "d4m", "d4m+EVLF", "mgd3" })
            Assert.Contains($"| {label} | pending |", lines);
        Assert.Contains("| – | d4m+EVLF | 2 | pending: fusion module not trained yet | | | | | | | | | | | |", lines);
        Assert.DoesNotContain("*published:*", text); // not Fashion-MNIST
        Assert.Contains("PCA-64 of [−1, 1] pixels (12×12×1) fitted on 90 real training images", text);

        // Both runs are real bars images of their own class, so every class's density and coverage is defined.
        var randomRow = lines.Single(l => l.StartsWith("| `../runs/random-ipc2`"));
        var cells = randomRow.Split('|').Select(c => c.Trim()).ToArray();
        Assert.Equal("random", cells[2]);
        Assert.Equal("–", cells[9]); // random uses no bundle
        Assert.All(cells[10..15], c => Assert.Matches(@"^\d+\.\d{3}$", c));
        Assert.Contains("[images](figures/random-ipc2-sheet.png), [PCA](figures/random-ipc2-pca.png)", randomRow);

        foreach (var name in new[] { "random-ipc2-sheet.png", "random-ipc2-pca.png", "mgd3-evlf-ipc2-sheet.png", "mgd3-evlf-ipc2-pca.png" })
        {
            var png = dir.Combine("docs", "figures", name);
            Assert.True(File.Exists(png), png);
            var image = ImageCodec.Decode(png, 3);
            Assert.True(image.Width > 50 && image.Height > 50, $"{name} is {image}");
        }
        // Three classes of 2 images, 24×24 shown at 2× (48 pixels, 2 apart): 14 + 2·50 + 4 wide, 4 + 3·50 + 4 − 2 high.
        Assert.Equal((14 + 2 * 50 + 4, 4 + 3 * 50 + 2), Size(dir.Combine("docs", "figures", "mgd3-evlf-ipc2-sheet.png")));
        Assert.Empty(Directory.GetFiles(dir.Combine("docs"), "*.tmp", SearchOption.AllDirectories));

        // The same runs give the same bytes.
        var before = Snapshot(dir.Combine("docs"));
        var again = EvlfProcess.Run("report", random, mgd3, "--out", md, "--knn", "5", "--real-per-class", "30",
            "--pending", "d4m+EVLF:2:fusion module not trained yet", "--quiet");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal("", again.Stderr);
        var after = Snapshot(dir.Combine("docs"));
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.True(bytes.SequenceEqual(after[file]), $"{file} changed between two identical reports");
    }

    [Fact]
    public void AgreementIsTheTeachersAccuracyOnEachRunsImages()
    {
        using var dir = new TempDir();
        var data = dir.Combine("bars-idx");
        var bars = WriteBarsIdx(data);
        var spec = $"idx:{data}";
        var (random, mgd3) = WriteRuns(dir.Path, bars, spec);
        var md = dir.Combine("docs", "RESULTS.md");
        var cache = dir.Combine("teachers");

        var r = EvlfProcess.Run("report", random, mgd3, "--out", md, "--knn", "5", "--real-per-class", "30", "--agreement", "--teacher-cache", cache, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var lines = File.ReadAllText(md).Split('\n');
        Assert.Contains(lines, l => l.StartsWith("| run | method |") && l.Contains("| in-manifold | agreement | lowest class | figures |"));
        var line = Assert.Single(lines, l => l.StartsWith("- *agreement*"));
        Assert.Contains("on the real test split (teacher key ", line);

        // Independently: the cached teacher (same options and seed as soft-label evaluation's) and ClassifierAccuracy on the run's images.
        var real = DataSpec.Parse(spec).Open();
        var normalization = DatasetNormalization.For(DataSpec.Parse(spec), real);
        using var teacher = Teacher.LoadOrTrain(real, DataSpec.Parse(spec).ToString(), normalization, SoftLabelOptions.Rded.Teacher with { CacheDirectory = cache }, seed: 0);
        Assert.True(teacher.FromCache);
        foreach (var (run, name) in new[] { (random, "random-ipc2"), (mgd3, "mgd3-evlf-ipc2") })
        {
            var set = SyntheticSetReader.Open(run, new DatasetOptions(Channels: 1));
            using var images = LabelledImages.Load(set.Train, normalization, 1, 12, 12);
            var expected = (100 * ClassifierAccuracy.Measure(teacher.Network, images)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
            var cells = lines.Single(l => l.StartsWith($"| `../runs/{name}`")).Split('|').Select(c => c.Trim()).ToArray();
            Assert.Equal(expected, cells[15]);
            var lowest = System.Text.RegularExpressions.Regex.Match(cells[16], @"^(\d+\.\d) \((left|top|diagonal)\)$");
            Assert.True(lowest.Success, cells[16]);
            Assert.True(double.Parse(lowest.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= double.Parse(cells[15], System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Contains("--no-metrics", EvlfProcess.AssertUserError(EvlfProcess.Run("report", random, "--out", md, "--agreement", "--no-metrics")));
        Assert.Contains("--agreement", EvlfProcess.AssertUserError(EvlfProcess.Run("report", random, "--out", md, "--teacher-cache", cache)));
    }

    [Fact]
    public void TablesOnlyForFashionMnistShowThePublishedRows()
    {
        using var dir = new TempDir();
        var bars = TinyData.Bars(perClass: 4);
        var (random, mgd3) = WriteRuns(dir.Path, bars, "fashion-mnist");
        var md = dir.Combine("out", "RESULTS.md");
        var r = EvlfProcess.Run("report", random, mgd3, "--out", md, "--no-metrics", "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var text = File.ReadAllText(md);
        Assert.Contains("| *published:* DSA | –", text);           // IPC 2 is not among the published IPCs
        Assert.Contains("as the papers below report them", text);
        Assert.Contains("Not computed for this report (made without metrics).", text);
        Assert.False(Directory.Exists(dir.Combine("out", "figures")));
    }

    [Fact]
    public void BadInputIsExitTwoWithOneLineAndWritesNothing()
    {
        using var dir = new TempDir();
        var (random, _) = WriteRuns(dir.Path, TinyData.Bars(perClass: 4), "fashion-mnist");
        var md = dir.Combine("docs", "RESULTS.md");
        var missing = dir.Combine("runs", "no-such-run");
        Assert.Contains($"'{missing}' does not exist", EvlfProcess.AssertUserError(EvlfProcess.Run("report", random, missing, "--out", md)));
        var bare = dir.Combine("runs", "bare");
        Directory.CreateDirectory(bare);
        Assert.Contains("has no manifest.json", EvlfProcess.AssertUserError(EvlfProcess.Run("report", bare, "--out", md)));
        Assert.Contains("label:ipc", EvlfProcess.AssertUserError(EvlfProcess.Run("report", random, "--out", md, "--pending", "d4m")));
        Assert.Contains("--knn", EvlfProcess.AssertUserError(EvlfProcess.Run("report", random, "--out", md, "--knn", "0")));
        EvlfProcess.AssertUserError(EvlfProcess.Run("report"));
        Assert.Contains("is a folder", EvlfProcess.AssertUserError(EvlfProcess.Run("report", random, "--out", dir.Path, "--no-metrics")));
        Assert.False(File.Exists(md));
    }

    static (int Width, int Height) Size(string png)
    {
        var (w, h, _) = ImageCodec.ReadHeader(png);
        return (w, h);
    }

    static Dictionary<string, byte[]> Snapshot(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);
}
