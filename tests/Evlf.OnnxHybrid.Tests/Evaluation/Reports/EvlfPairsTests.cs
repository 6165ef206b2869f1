using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Evaluation.Reports;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Reports;

public class EvlfPairsTests
{
    static readonly RunAccuracy Dsa = new(0, 0, 3, 1000, "dsa", "convnet3", "DSA color_crop_cutout_flip_scale_rotate");

    static RunRecord Run(string name, bool evlf, long seed, double[] accuracies, string settings = "A", string? fusion = "F", RunAccuracy? protocol = null, long[]? classifierSeeds = null) => new()
    {
        Directory = "/runs/" + name,
        Name = name,
        Method = "mgd3",
        Evlf = evlf,
        Candidates = 10,
        Ipc = 10,
        Seed = seed,
        Settings = settings,
        FusionSettings = evlf ? fusion : null,
        Accuracy = (protocol ?? Dsa) with
        {
            Mean = accuracies.Average(),
            Seeds = classifierSeeds ?? accuracies.Select((_, i) => (long)i).ToArray(),
            Accuracies = accuracies,
        },
    };

    // Two generation seeds × three classifier seeds. Expected values by hand (python3 statistics): differences
    // 0.58, 0.48, 0.25 | −0.50, 0.50, 1.10; mean 0.401667, population sd 0.478066; per seed 0.436667 and 0.366667.
    static readonly RunRecord[] Runs =
    [
        Run("evlf-s0", evlf: true, seed: 0, [77.57, 77.60, 77.37]),
        Run("base-s0", evlf: false, seed: 0, [76.99, 77.12, 77.12]),
        Run("evlf-s1", evlf: true, seed: 1, [76.0, 76.5, 77.1]),
        Run("base-s1", evlf: false, seed: 1, [76.5, 76.0, 76.0]),
        // Not partners of the runs above: other settings, another evaluation, no shared classifier seed, no base.
        Run("base-s0-other", evlf: false, seed: 0, [10, 10, 10], settings: "B"),
        Run("a-base-s0-300", evlf: false, seed: 0, [10, 10, 10], protocol: Dsa with { Epochs = 300 }),
        Run("base-s1-seeds", evlf: false, seed: 1, [10, 10, 10], classifierSeeds: [5, 6, 7]),
        Run("evlf-s2", evlf: true, seed: 2, [77, 77, 77]),
        // Another fusion setting at seed 0: a group of its own, against the same base.
        Run("evlf-s0-lambda", evlf: true, seed: 0, [78.0, 77.0, 77.12], fusion: "G"),
    ];

    [Fact]
    public void EachEvlfRunMeetsItsBaseClassifierByClassifier()
    {
        var deltas = EvlfPairs.Find(Runs);
        Assert.Equal(2, deltas.Count);
        var d = deltas.Single(x => x.Pairs[0].WithEvlf.FusionSettings == "F");
        Assert.Equal(["evlf-s0", "evlf-s1"], d.Pairs.Select(p => p.WithEvlf.Name));
        Assert.Equal(["base-s0", "base-s1"], d.Pairs.Select(p => p.Base.Name));
        Assert.Equal([0L, 1, 2], d.Pairs[1].ClassifierSeeds);
        double[] expected = [0.58, 0.48, 0.25, -0.50, 0.50, 1.10];
        Assert.Equal(expected.Length, d.Differences.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], d.Differences[i], 1e-9);
        Assert.Equal(0.401667, d.Mean, 1e-6);
        Assert.Equal(0.478066, d.Std, 1e-6);
        Assert.Equal(5, d.Ahead);
        Assert.Equal(("mgd3+EVLF+select×10", (int?)10), (d.Label, d.Ipc));

        var lambda = deltas.Single(x => x.Pairs[0].WithEvlf.FusionSettings == "G");
        Assert.Equal("base-s0", Assert.Single(lambda.Pairs).Base.Name);
        Assert.Equal(0.296667, lambda.Mean, 1e-6); // differences 1.01, −0.12, 0.00
    }

    [Fact]
    public void ClassifierSeedsArePairedBySeedNotByPosition()
    {
        RunRecord[] runs =
        [
            Run("evlf", evlf: true, seed: 0, [70, 80, 90], classifierSeeds: [2, 0, 1]),
            Run("base", evlf: false, seed: 0, [60, 75, 82], classifierSeeds: [0, 1, 3]),
        ];
        // Shared seeds 0 and 1: 80 − 60 and 90 − 75.
        var pair = Assert.Single(Assert.Single(EvlfPairs.Find(runs)).Pairs);
        Assert.Equal([0L, 1], pair.ClassifierSeeds);
        Assert.Equal([20.0, 15.0], pair.Differences);
    }

    [Fact]
    public void TheReportShowsThePairedDeltaAndPoolsGenerationSeeds()
    {
        var md = ResultsTableTests.RenderRuns(Runs);
        var lines = md.Split('\n');
        Assert.Contains("## EVLF − base, paired", lines);
        Assert.Contains("| mgd3+EVLF+select×10 | 10 | dsa | 2 × 3 | +0.40 ± 0.48 | 0: +0.44, 1: +0.37 | 5 of 6 | `evlf-s0` / `base-s0`, `evlf-s1` / `base-s1` |", lines);
        // The base runs of seeds 0 and 1 pool into one cell: mean 76.621667, population sd 0.486498 over the six classifiers
        // (python3 statistics); the other-settings and other-protocol bases keep cells of their own.
        // Base runs: another evaluation (†), seeds 0 and 1 of the same settings pooled (mean 76.621667, population sd
        // 0.486498 over the six classifiers, python3 statistics), other settings, and a second run of seed 1.
        Assert.Contains("| mgd3+select×10 | 10.00 ± 0.00 †; 76.62 ± 0.49 (2 seeds); 10.00 ± 0.00; 10.00 ± 0.00 |", lines);
        // EVLF runs of seeds 0, 1 and 2 (the first two and seed 2's 77, 77, 77: mean 77.015556, sd 0.480697); the other
        // fusion setting keeps its own cell.
        Assert.Contains("| mgd3+EVLF+select×10 | 77.02 ± 0.48 (3 seeds); 77.37 ± 0.00 |", lines);
        Assert.Contains("(N seeds): runs that differ only by their generation seed", md);
    }

    [Fact]
    public void TheSeedGridSaysWhenGenerationSeedsHaveFewerClassifiers()
    {
        // Seed 0 over three classifier seeds, seed 1 over one: four differences (0.58, 0.48, 0.25 | −0.50), mean 0.2025,
        // population sd 0.422870 (python3 statistics); "2 × 3" would claim six.
        RunRecord[] runs =
        [
            Runs[0], Runs[1],
            Run("evlf-s1-one", evlf: true, seed: 1, [76.0]),
            Run("base-s1-one", evlf: false, seed: 1, [76.5]),
        ];
        var lines = ResultsTableTests.RenderRuns(runs).Split('\n');
        Assert.Contains("| mgd3+EVLF+select×10 | 10 | dsa | 2 × 1–3 | +0.20 ± 0.42 | 0: +0.44, 1: −0.50 | 3 of 4 | `evlf-s0` / `base-s0`, `evlf-s1-one` / `base-s1-one` |", lines);
    }

    [Fact]
    public void SettingsIgnoreWhereARunWroteButNotWhatItMade()
    {
        using var dir = new TempDir();
        string Write(string name, bool evlf, long seed, int candidates = 10, double lambda1 = 0.1, string dit = "bb", string dataId = "d1",
            bool? onePerMode = null, double? temperature = null)
        {
            var run = dir.Combine(name);
            Directory.CreateDirectory(run);
            var manifest = new JsonObject
            {
                ["method"] = "mgd3", ["evlf"] = evlf, ["finetune"] = false, ["ipc"] = 10, ["seed"] = seed,
                ["data"] = new JsonObject { ["spec"] = "fashion-mnist", ["id"] = dataId },
                ["options"] = new JsonObject
                {
                    ["Data"] = "fashion-mnist", ["Bundle"] = "/bundles/" + name, ["Method"] = 4, ["Evlf"] = evlf, ["UsesFusion"] = evlf,
                    ["Ipc"] = 10, ["Seed"] = seed, ["Out"] = run, ["Cache"] = "/cache/" + name, ["Quiet"] = evlf, ["Device"] = 0,
                    ["Candidates"] = candidates, ["FusionTraining"] = new JsonObject { ["Lambda1"] = lambda1 },
                },
                ["bundle"] = new JsonObject { ["hashes"] = new JsonObject { ["dit.onnx"] = dit, ["bundle.json"] = "aa" } },
            };
            if (onePerMode is bool on) manifest["options"]!["OnePerMode"] = on;
            if (temperature is double t) manifest["options"]!["FusionTraining"]!["Temperature"] = t;
            File.WriteAllText(Path.Combine(run, "manifest.json"), manifest.ToJsonString());
            RunRecordTests.Eval([80, 81, 82]).Write(Path.Combine(run, EvaluationResult.FileName));
            return run;
        }
        var evlf = RunRecord.Read(Write("evlf", evlf: true, seed: 1));
        var plain = RunRecord.Read(Write("base", evlf: false, seed: 2));
        Assert.NotNull(evlf.Settings);
        Assert.Equal(evlf.Settings, plain.Settings);          // output, cache, bundle path, seed, EVLF and fusion settings aside
        Assert.Null(plain.FusionSettings);
        Assert.NotEqual(evlf.FusionSettings, RunRecord.Read(Write("lambda", evlf: true, seed: 1, lambda1: 1.0)).FusionSettings);
        Assert.NotEqual(evlf.Settings, RunRecord.Read(Write("candidates", evlf: false, seed: 1, candidates: 1)).Settings);
        Assert.NotEqual(evlf.Settings, RunRecord.Read(Write("bundle", evlf: false, seed: 1, dit: "cc")).Settings);
        Assert.NotEqual(evlf.Settings, RunRecord.Read(Write("data", evlf: false, seed: 1, dataId: "d2")).Settings);
        // A manifest written before an option existed (no OnePerMode) pairs with one that records it at its default.
        Assert.Equal(evlf.Settings, RunRecord.Read(Write("later", evlf: false, seed: 1, onePerMode: false)).Settings);
        Assert.NotEqual(evlf.Settings, RunRecord.Read(Write("per-mode", evlf: false, seed: 1, onePerMode: true)).Settings);
        // The same inside FusionTraining: a setting the EVLF run's manifest does not name counts at its default.
        var fusionDefault = new DistillOptions().FusionTraining.Temperature;
        Assert.Equal(evlf.FusionSettings, RunRecord.Read(Write("later-fusion", evlf: true, seed: 2, temperature: fusionDefault)).FusionSettings);
        Assert.NotEqual(evlf.FusionSettings, RunRecord.Read(Write("other-fusion", evlf: true, seed: 2, temperature: fusionDefault * 2)).FusionSettings);
        Assert.Equal([0L, 1, 2], evlf.Accuracy!.Seeds);
        Assert.Equal([80.0, 81, 82], evlf.Accuracy.Accuracies);
    }
}
