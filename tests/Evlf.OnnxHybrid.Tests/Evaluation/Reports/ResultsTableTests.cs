using Evlf.OnnxHybrid.Evaluation.Metrics;
using Evlf.OnnxHybrid.Evaluation.Reports;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Reports;

public class ResultsTableTests
{
    static RunRecord Run(string method, int ipc, bool evlf = false, RunAccuracy? accuracy = null, string? name = null) => new()
    {
        Directory = "/runs/" + (name ?? $"{method}{(evlf ? "-evlf" : "")}-ipc{ipc}"),
        Name = name ?? $"{method}{(evlf ? "-evlf" : "")}-ipc{ipc}",
        Method = method,
        Evlf = evlf,
        Ipc = ipc,
        Accuracy = accuracy,
    };

    // The id of these hashes with dit.onnx=bb is 4031d5ab: printf 'bundle.json=aa\ndit.onnx=bb\n' | sha256sum
    static Dictionary<string, string> Hashes(string dit) => new() { ["dit.onnx"] = dit, ["bundle.json"] = "aa" };

    static readonly RunAccuracy Dsa = new(73.456, 0.5, 5, 1000, "dsa", "convnet3", "DSA color_crop_cutout_flip_scale_rotate");

    /// <summary>The markdown of a report of <paramref name="runs"/> alone: no pending cells, metrics or figures.</summary>
    internal static string RenderRuns(IEnumerable<RunRecord> runs, bool showPublished = false) => ResultsMarkdown.Render(new ReportDocument
    {
        Entries = runs.Select(r => new ReportEntry(r, "../runs/" + r.Name, null, null, null)).ToArray(),
        Pending = [],
        Data = "fashion-mnist",
        ClassNames = [],
        FeatureSpace = null,
        Fidelity = null,
        ScatterRealPerClass = 0,
        ShowPublished = showPublished,
    });

    [Fact]
    public void PendingEntriesParse()
    {
        Assert.Equal(new PendingRun("d4m+EVLF", 10, "needs: the fine-tuned bundle"), PendingRun.Parse("D4M+evlf:10:needs: the fine-tuned bundle"));
        Assert.Equal(new PendingRun("dc", 1, null), PendingRun.Parse(" dc : 1 "));
        Assert.Contains("label:ipc", Assert.Throws<UserInputException>(() => PendingRun.Parse("d4m")).Message);
        Assert.Contains("IPC 'ten'", Assert.Throws<UserInputException>(() => PendingRun.Parse("d4m:ten")).Message);
        Assert.Throws<UserInputException>(() => PendingRun.Parse("d4m:0"));
    }

    [Fact]
    public void EveryStandardMethodWithoutARunIsPendingAtEachIpcPresent()
    {
        RunRecord[] runs = [Run("random", 10), Run("mgd3", 10, evlf: true), Run("d4m", 1)];
        var pending = ResultsReport.PendingCells(runs, [PendingRun.Parse("d4m+EVLF:10:fusion not trained"), PendingRun.Parse("dc:50")]);
        // IPCs present: 1, 10 (runs) and 50 (requested); 9 labels × 3 IPCs − 3 runs = 24 standard cells, plus dc at 50.
        Assert.Equal(25, pending.Count);
        Assert.Contains(pending, p => p is { Label: "minimax+EVLF", Ipc: 1 });
        Assert.DoesNotContain(pending, p => p is { Label: "random", Ipc: 10 });
        Assert.DoesNotContain(pending, p => p is { Label: "mgd3+EVLF", Ipc: 10 });
        Assert.Contains(pending, p => p is { Label: "mgd3", Ipc: 10, Reason: null });
        Assert.Contains(pending, p => p is { Label: "random", Ipc: 50 });
        Assert.Contains(new PendingRun("d4m+EVLF", 10, "fusion not trained"), pending);
        Assert.Contains(new PendingRun("dc", 50, null), pending);
    }

    [Fact]
    public void MarkdownHasTheSummaryTheRunsAndThePublishedRows()
    {
        var fidelity = new SetFidelity(new DensityCoverage(0.9, 0.25, 0.95, 1000, 100, 20),
            [new DensityCoverage(1.0, 0.1, 1.0, 100, 10, 20), new DensityCoverage(0.5, 0.3, 0.5, 100, 10, 20)]);
        RunRecord[] runs =
        [
            Run("random", 10, accuracy: Dsa),
            Run("mgd3", 10, evlf: true) with { BundleHashes = Hashes("bb") },
            Run("d4m", 10, accuracy: Dsa with { Model = "convnet1", Epochs = 2 }),
            Run("herding", 10, accuracy: Dsa with { Epochs = 300, ProtocolSettings = "DSA none" }),
        ];
        var doc = new ReportDocument
        {
            Entries =
            [
                new ReportEntry(runs[0], "../runs/random-ipc10", fidelity, "figures/random-ipc10-sheet.png", "figures/random-ipc10-pca.png"),
                new ReportEntry(runs[1], "../runs/mgd3-evlf-ipc10", null, null, null),
                new ReportEntry(runs[2], "../runs/d4m-ipc10", null, null, null),
                new ReportEntry(runs[3], "../runs/herding-dc-ipc10", null, null, null),
            ],
            Pending = ResultsReport.PendingCells(runs, [PendingRun.Parse("d4m+EVLF:10:a | pipe")]),
            Data = "fashion-mnist",
            ClassNames = ["T-shirt/top", "Trouser"],
            FeatureSpace = "PCA-64 of [−1, 1] pixels (28×28×1) fitted on 2000 real training images",
            Fidelity = new FidelityOptions(),
            ScatterRealPerClass = 200,
            ShowPublished = true,
        };
        var md = ResultsMarkdown.Render(doc);
        var lines = md.Split('\n');

        Assert.Contains("| method | IPC 10 |", lines);
        Assert.Contains("| random | 73.46 ± 0.50 |", lines);
        Assert.Contains("| mgd3+EVLF | not evaluated |", lines);
        Assert.Contains("| d4m | 73.46 ± 0.50 † |", lines);          // another protocol than the published rows'
        Assert.Contains("| herding | 73.46 ± 0.50 ‡ |", lines);      // DC's evaluation, as the published herding row
        Assert.Contains("‡: DC's evaluation (ConvNet-3, no augmentation, 300 epochs", md);
        Assert.Contains("| *published:* DC | 82.3 ± 0.4 |", lines);
        Assert.Contains("| *published:* FreD (trajectory matching) | 89.1 |", lines);
        // The runs table: per-class means 0.750 / 0.200 / 0.750, global 0.900 / 0.250.
        Assert.Contains("| `../runs/random-ipc10` | random | 10 | 73.46 ± 0.50 | 5 | 1000 | dsa | convnet3 | – | 0.750 | 0.200 | 0.900 | 0.250 | 0.750 | [images](figures/random-ipc10-sheet.png), [PCA](figures/random-ipc10-pca.png) |", lines);
        Assert.Contains("| `../runs/mgd3-evlf-ipc10` | mgd3+EVLF | 10 | not evaluated | | | | | `4031d5ab` | – | – | – | – | – | – |", lines);
        Assert.Contains("| – | d4m+EVLF | 10 | pending: a \\| pipe | | | | | | | | | | | |", lines);
        Assert.Contains("![images of random-ipc10](figures/random-ipc10-sheet.png)", lines);
        Assert.Contains("| 1 | Trouser | `#ff7f0e` |", lines);
        Assert.Contains("k = 20", md);
        Assert.Equal(md, ResultsMarkdown.Render(doc)); // no dates: same document, same text
        Assert.DoesNotContain("Mixed bundles", md); // one generative run, one bundle
        // Every row of the runs table has the header's 15 cells: 16 pipes, 17 pieces.
        Assert.All(lines.Where(l => l.StartsWith("| `") || l.StartsWith("| – |")), l => Assert.Equal(17, l.Replace("\\|", "").Split('|').Length));
    }

    [Fact]
    public void RunsOfDifferentBundleFilesAreFlagged()
    {
        static string Render(params RunRecord[] runs) => RenderRuns(runs);
        var same = Render(Run("dit", 1, accuracy: Dsa) with { BundleHashes = Hashes("bb") }, Run("dit", 10, accuracy: Dsa) with { BundleHashes = Hashes("bb") });
        Assert.DoesNotContain("Mixed bundles", same);
        Assert.Equal(2, same.Split("`4031d5ab`").Length - 1);
        var mixed = Render(Run("dit", 1, accuracy: Dsa) with { BundleHashes = Hashes("bb") }, Run("dit", 10, accuracy: Dsa) with { BundleHashes = Hashes("cc") }, Run("random", 10, accuracy: Dsa));
        Assert.Contains("**Mixed bundles**: these runs were made with different versions of dit.onnx (2 versions)", mixed);
        Assert.DoesNotContain("bundle.json (", mixed);
    }
    [Fact]
    public void OneRepeatShowsNoSpread()
    {
        var lines = RenderRuns([Run("herding", 50, accuracy: Dsa with { Mean = 83.514, Std = 0, Repeats = 1 })]).Split('\n');
        Assert.Contains("| herding | 83.51 (1 repeat) |", lines);
        Assert.Contains(lines, l => l.StartsWith("| `../runs/herding-ipc50` | herding | 50 | 83.51 (1 repeat) | 1 | 1000 |", StringComparison.Ordinal));
    }

    [Fact]
    public void SoftLabelResultsGetARowAndMarkOfTheirOwn()
    {
        var soft = new RunAccuracy(80.1, 0.25, 3, 300, "soft", "convnet3", "soft labels (rded): ...")
        {
            Teacher = "convnet3",
            TeacherAccuracy = 89.5,
            Temperature = 20,
        };
        RunRecord[] runs = [Run("random", 10, accuracy: Dsa), Run("random", 10, accuracy: soft, name: "random-soft-ipc10"), Run("d4m", 10, accuracy: soft)];
        var md = RenderRuns(runs, showPublished: true);
        var lines = md.Split('\n');
        Assert.Contains("| random | 73.46 ± 0.50 |", lines);                 // the hard-label result stays alone in the method's row
        Assert.Contains("| random, soft labels | 80.10 ± 0.25 § |", lines);
        Assert.Contains("| d4m | – |", lines);                               // no hard-label result for d4m ...
        Assert.Contains("| d4m, soft labels | 80.10 ± 0.25 § |", lines);      // ... its soft one below it
        Assert.Contains("§: soft labels", md);
        Assert.DoesNotContain("†", md);
        Assert.Contains("| `../runs/random-soft-ipc10` | random | 10 | 80.10 ± 0.25 | 3 | 300 | soft (convnet3 teacher 89.50%, T 20) | convnet3 |", md);
        Assert.False(soft.IsDsaReference);
        Assert.True(soft.IsSoftLabel);
    }
}
