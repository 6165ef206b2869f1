namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>
/// One run made with EVLF against the run of the same settings and generation seed made without it
/// (<see cref="RunRecord.Settings"/>), classifier by classifier: repeats of one classifier seed start from the same
/// weights and draw the same batches and augmentations, so each difference is EVLF's effect at one generation seed and
/// one classifier seed (the paired design of EVALUATION.md §11).
/// </summary>
/// <param name="WithEvlf">The run with fusion.</param>
/// <param name="Base">The run without it.</param>
/// <param name="ClassifierSeeds">The classifier seeds both runs trained, ascending.</param>
/// <param name="Differences">For each of those seeds, the EVLF run's test accuracy minus the base run's, percentage points.</param>
public sealed record EvlfPair(RunRecord WithEvlf, RunRecord Base, IReadOnlyList<long> ClassifierSeeds, IReadOnlyList<double> Differences);

/// <summary>EVLF − base over the pairs of one configuration (pipeline, IPC, settings, fusion settings and evaluation), one pair per generation seed.</summary>
/// <param name="Pairs">Ordered by generation seed; never empty.</param>
public sealed record EvlfDelta(IReadOnlyList<EvlfPair> Pairs)
{
    /// <summary>The EVLF runs' row label, e.g. "mgd3+EVLF+select×10".</summary>
    public string Label => Pairs[0].WithEvlf.Label;

    public int? Ipc => Pairs[0].WithEvlf.Ipc;

    /// <summary>How the classifiers were trained (the EVLF runs' evaluation; the bases' is the same).</summary>
    public RunAccuracy Evaluation => Pairs[0].WithEvlf.Accuracy!;

    /// <summary>Every paired difference, generation seed by generation seed.</summary>
    public IReadOnlyList<double> Differences => Pairs.SelectMany(p => p.Differences).ToArray();

    /// <summary>Mean of <see cref="Differences"/>, percentage points.</summary>
    public double Mean => Differences.Average();

    /// <summary>Population standard deviation (ddof 0) of <see cref="Differences"/>, as the report's other spreads.</summary>
    public double Std => EvaluationResult.PopulationStd(Differences);

    /// <summary>How many differences are above zero.</summary>
    public int Ahead => Differences.Count(d => d > 0);
}

/// <summary>Finds the EVLF/base pairs among a report's runs (<see cref="EvlfPair"/>) and groups them (<see cref="EvlfDelta"/>).</summary>
public static class EvlfPairs
{
    /// <summary>
    /// Pairs each evaluated EVLF run with the evaluated run without EVLF that has the same <see cref="RunRecord.Settings"/>,
    /// the same generation seed and the same evaluation (<see cref="RunAccuracy.SameProtocolAs"/>) and shares at least one
    /// classifier seed with it (the first such run by folder name), then groups the pairs by settings, fusion settings and
    /// evaluation. A second EVLF run of a seed already paired in its group is left out, so no seed counts twice.
    /// </summary>
    public static IReadOnlyList<EvlfDelta> Find(IReadOnlyList<RunRecord> runs)
    {
        var groups = new List<List<EvlfPair>>();
        foreach (var fused in runs.Where(r => r.Evlf && r.Settings is not null && r.Accuracy is not null).OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            var pair = runs
                .Where(b => !b.Evlf && b.Settings == fused.Settings && b.Seed == fused.Seed && b.Accuracy is { } a && a.SameProtocolAs(fused.Accuracy!))
                .OrderBy(b => b.Name, StringComparer.Ordinal)
                .Select(b => Pair(fused, b))
                .FirstOrDefault(p => p.Differences.Count > 0);
            if (pair is null) continue;
            var group = groups.FirstOrDefault(g => g[0].WithEvlf.Settings == fused.Settings && g[0].WithEvlf.FusionSettings == fused.FusionSettings
                                                   && g[0].WithEvlf.Accuracy!.SameProtocolAs(fused.Accuracy!));
            if (group is null) groups.Add([pair]);
            else if (!group.Any(p => p.WithEvlf.Seed == fused.Seed)) group.Add(pair);
        }
        return groups.Select(g => new EvlfDelta(g.OrderBy(p => p.WithEvlf.Seed).ToArray())).ToArray();
    }

    /// <summary>The two runs' accuracies at the classifier seeds both trained.</summary>
    static EvlfPair Pair(RunRecord fused, RunRecord plain)
    {
        var a = fused.Accuracy!;
        var b = plain.Accuracy!;
        var bySeed = b.Seeds.Zip(b.Accuracies).ToDictionary(r => r.First, r => r.Second);
        var shared = a.Seeds.Zip(a.Accuracies).Where(r => bySeed.ContainsKey(r.First)).OrderBy(r => r.First).ToArray();
        return new EvlfPair(fused, plain, shared.Select(r => r.First).ToArray(), shared.Select(r => r.Second - bySeed[r.First]).ToArray());
    }
}
