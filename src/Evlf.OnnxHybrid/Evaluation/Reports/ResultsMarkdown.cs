using System.Globalization;
using System.Text;
using Evlf.OnnxHybrid.Evaluation.Metrics;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>
/// Writes a <see cref="ReportDocument"/> as markdown: a method × IPC summary of test accuracy (with pending cells and
/// the published Fashion-MNIST rows), EVLF − base over paired runs (<see cref="EvlfPairs"/>) when there are any, a
/// table of every run with its protocol, density and coverage, how the metrics are computed, and the figures. The text
/// depends only on the document (no dates), so an unchanged set of runs gives the same file.
/// </summary>
internal static class ResultsMarkdown
{
    public const string Pending = "pending";
    public const string NotEvaluated = "not evaluated";

    public static string Render(ReportDocument doc)
    {
        var md = new StringBuilder();
        var entries = doc.Entries.OrderBy(e => Rank(e.Run.Label)).ThenBy(e => e.Run.Label, StringComparer.Ordinal)
            .ThenBy(e => e.Run.Ipc ?? int.MaxValue).ThenBy(e => e.Run.Name, StringComparer.Ordinal).ToArray();
        var ipcs = entries.Select(e => e.Run.Ipc).Where(i => i is not null).Select(i => i!.Value)
            .Concat(doc.Pending.Select(p => p.Ipc)).Distinct().Order().ToArray();
        var labels = PendingRun.StandardLabels
            .Concat(entries.Select(e => e.Run.Label).Concat(doc.Pending.Select(p => p.Label)).Where(l => !PendingRun.StandardLabels.Contains(l)).Distinct().Order(StringComparer.Ordinal))
            .ToArray();

        md.AppendLine("# Results").AppendLine();
        md.AppendLine($"Test accuracy (%) of classifiers trained only on each distilled set and tested on the real test split of `{Escape(doc.Data)}`, " +
                      "as `evlf eval` measured it: mean ± population standard deviation over the repeats, accuracy after the last epoch. " +
                      $"{ResultsReport.Signature}; run it again after new runs or evaluations.").AppendLine();

        // ---- summary -------------------------------------------------------------------------------
        md.AppendLine("## Accuracy by method and images per class (IPC)").AppendLine();
        bool anyNonReference = false, anyDc = false, anySoft = false, anySeeds = false;
        if (ipcs.Length == 0) md.AppendLine("No run records its images per class.").AppendLine();
        else
        {
            md.AppendLine("| method | " + string.Join(" | ", ipcs.Select(i => $"IPC {i}")) + " |");
            md.AppendLine("|---|" + string.Concat(ipcs.Select(_ => "---|")));
            foreach (var label in labels)
            {
                // Hard-label results (and runs not yet evaluated) in the method's row; soft-label ones in a row of their own below it.
                var cells = ipcs.Select(ipc =>
                {
                    var runs = entries.Where(e => e.Run.Label == label && e.Run.Ipc == ipc && e.Run.Accuracy?.IsSoftLabel != true).ToArray();
                    if (runs.Length == 0) return doc.Pending.Any(p => p.Label == label && p.Ipc == ipc) ? Pending : "–";
                    // Runs that differ only by their generation seed share one cell: the pooled classifiers of every seed.
                    return string.Join("; ", SeedGroups(runs.Select(e => e.Run)).Select(g =>
                    {
                        if (g[0].Accuracy is not { } a) return NotEvaluated;
                        anyDc |= a.IsDcReference;
                        anyNonReference |= !a.IsDsaReference && !a.IsDcReference;
                        anySeeds |= g.Count > 1;
                        return (g.Count > 1 ? Pooled(g) : Accuracy(a)) + (a.IsDsaReference ? "" : a.IsDcReference ? " ‡" : " †");
                    }));
                });
                md.AppendLine($"| {Escape(label)} | " + string.Join(" | ", cells) + " |");
                var soft = entries.Where(e => e.Run.Label == label && e.Run.Accuracy?.IsSoftLabel == true).ToArray();
                if (soft.Length == 0) continue;
                anySoft = true;
                var softCells = ipcs.Select(ipc => soft.Where(e => e.Run.Ipc == ipc).Select(e => Accuracy(e.Run.Accuracy!) + " §").ToArray() is { Length: > 0 } found
                    ? string.Join("; ", found) : "–");
                md.AppendLine($"| {Escape(label)}, soft labels | " + string.Join(" | ", softCells) + " |");
            }
            if (doc.ShowPublished)
                foreach (var p in PublishedResults.FashionMnist)
                    md.AppendLine($"| *published:* {Escape(p.Method)} | " + string.Join(" | ", ipcs.Select(i => p.ByIpc.TryGetValue(i, out var v) ? v : "–")) + " |");
            md.AppendLine();
            md.AppendLine($"*{Pending}*: no run yet; *{NotEvaluated}*: a run without eval.json" +
                          (anySeeds ? "; (N seeds): runs that differ only by their generation seed, mean ± population standard deviation over all their classifiers (each run's own result in the runs below)" : "") +
                          (anyDc ? "; ‡: DC's evaluation (ConvNet-3, no augmentation, 300 epochs: DC's code augments MNIST but not Fashion-MNIST), the protocol of the published random and herding rows" : "") +
                          (anyNonReference ? "; †: not evaluated with the DC/DSA protocol (ConvNet-3, DSA augmentation, 1000 epochs), see the runs below" : "") +
                          (anySoft ? "; §: soft labels, students trained against a teacher's temperature-softened outputs (as D4M, SRe2L and RDED report; teacher and T in the runs below), not comparable with hard-label results or the published rows" : "") + ".");
            if (doc.ShowPublished)
            {
                md.AppendLine($"Published rows: ConvNet-3 under the DC/DSA protocol, as the papers below report them; " +
                              $"the whole training set reaches {PublishedResults.FashionMnistWholeSet}. Sources:");
                md.AppendLine();
                foreach (var p in PublishedResults.FashionMnist) md.AppendLine($"- {Escape(p.Method)}: {Escape(p.Source)}");
            }
            md.AppendLine();
        }

        // ---- EVLF − base --------------------------------------------------------------------------
        var deltas = EvlfPairs.Find(entries.Select(e => e.Run).ToArray())
            .OrderBy(d => Rank(d.Label)).ThenBy(d => d.Label, StringComparer.Ordinal).ThenBy(d => d.Ipc ?? int.MaxValue).ToArray();
        if (deltas.Length > 0)
        {
            md.AppendLine("## EVLF − base, paired").AppendLine();
            md.AppendLine("Each run made with EVLF is paired with the run of the same settings, bundle, data and generation seed made without it, " +
                          "and each of its classifiers with the base run's classifier of the same seed (same initial weights, batches and augmentations), " +
                          "so each difference is EVLF's effect at one generation seed and one classifier seed. *EVLF − base*: mean ± population standard deviation " +
                          "of all the differences, percentage points; *by generation seed*: their mean at each seed; *ahead*: differences above zero.").AppendLine();
            md.AppendLine("| pipeline | IPC | protocol | generation seeds × classifiers | EVLF − base | by generation seed | ahead | runs (EVLF / base) |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var d in deltas)
                md.AppendLine(Row([
                    Escape(d.Label), d.Ipc?.ToString(CultureInfo.InvariantCulture) ?? "?", Escape(d.Evaluation.ProtocolLabel),
                    SeedGrid(d.Pairs),
                    FormattableString.Invariant($"{d.Mean:+0.00;−0.00;0.00} ± {d.Std:F2}"),
                    string.Join(", ", d.Pairs.Select(p => FormattableString.Invariant($"{p.WithEvlf.Seed}: {p.Differences.Average():+0.00;−0.00;0.00}"))),
                    FormattableString.Invariant($"{d.Ahead} of {d.Differences.Count}"),
                    string.Join(", ", d.Pairs.Select(p => $"`{Escape(p.WithEvlf.Name)}` / `{Escape(p.Base.Name)}`"))]));
            md.AppendLine();
        }

        // ---- runs ----------------------------------------------------------------------------------
        md.AppendLine("## Runs").AppendLine();
        // The agreement columns appear only when a judge scored the runs, so reports without one keep their shape.
        bool judged = doc.AgreementJudge is not null;
        md.AppendLine("| run | method | IPC | accuracy (%) | repeats | epochs | protocol | model | bundle | density | coverage | global density | global coverage | in-manifold | " +
                      (judged ? "agreement | lowest class | " : "") + "figures |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + (judged ? "---|---|" : "") + "---|");
        foreach (var e in entries)
        {
            var r = e.Run;
            var a = r.Accuracy;
            var f = e.Fidelity;
            var figures = string.Join(", ", new[] { (e.SheetPath, "images"), (e.ScatterPath, "PCA") }.Where(x => x.Item1 is not null).Select(x => $"[{x.Item2}]({x.Item1})"));
            string[] judgement = judged ? [Percent(e.Agreement?.Overall), Lowest(e.Agreement, doc.ClassNames)] : [];
            md.AppendLine(Row([
                $"`{Escape(e.RunPath)}`", Escape(r.Label), r.Ipc?.ToString(CultureInfo.InvariantCulture) ?? "?",
                a is null ? NotEvaluated : Accuracy(a),
                a?.Repeats.ToString(CultureInfo.InvariantCulture) ?? "", a?.Epochs.ToString(CultureInfo.InvariantCulture) ?? "",
                Escape(a?.ProtocolLabel ?? ""), Escape(a?.Model ?? ""), r.BundleId is null ? "–" : $"`{r.BundleId}`",
                Metric(f?.MeanDensity), Metric(f?.MeanCoverage), Metric(f?.Global.Density), Metric(f?.Global.Coverage), Metric(f?.MeanInManifold),
                .. judgement,
                figures.Length == 0 ? "–" : figures]));
        }
        foreach (var p in doc.Pending.OrderBy(p => Rank(p.Label)).ThenBy(p => p.Label, StringComparer.Ordinal).ThenBy(p => p.Ipc))
            md.AppendLine(Row(["–", Escape(p.Label), p.Ipc.ToString(CultureInfo.InvariantCulture), Pending + (p.Reason is null ? "" : ": " + Escape(p.Reason)), .. Enumerable.Repeat("", judged ? 13 : 11)]));
        md.AppendLine();
        md.AppendLine("*bundle*: the first 8 hex digits of a SHA-256 over the hashes of the bundle files a run's images were made with " +
                      "(bundle.json, VAE encoder and decoder, the denoiser; recorded in its manifest.json), so runs of the same bundle and denoiser share it; – for runs without a bundle.");
        var versions = entries.SelectMany(e => e.Run.BundleHashes).GroupBy(h => h.Key, StringComparer.Ordinal)
            .Select(g => (File: g.Key, Count: g.Select(h => h.Value).Distinct(StringComparer.Ordinal).Count())).Where(v => v.Count > 1)
            .OrderBy(v => v.File, StringComparer.Ordinal).ToArray();
        if (versions.Length > 0)
            md.AppendLine("**Mixed bundles**: these runs were made with different versions of " +
                          string.Join(", ", versions.Select(v => $"{Escape(v.File)} ({v.Count} versions)")) + "; compare only runs of the same bundle id.");
        md.AppendLine();
        var settings = entries.Select(e => e.Run.Accuracy?.ProtocolSettings).Where(s => s is not null).Distinct().ToArray();
        if (settings.Length > 0)
        {
            md.AppendLine("Protocol settings of the evaluated runs:").AppendLine();
            foreach (var s in settings) md.AppendLine($"- {Escape(s!)}");
            md.AppendLine();
        }

        // ---- metrics -------------------------------------------------------------------------------
        md.AppendLine("## Density and coverage").AppendLine();
        if (doc.FeatureSpace is null || doc.Fidelity is null)
            md.AppendLine("Not computed for this report (made without metrics).").AppendLine();
        else
        {
            var o = doc.Fidelity;
            md.AppendLine($"Density and coverage (Naeem et al., ICML 2020, \"Reliable Fidelity and Diversity Metrics for Generative Models\") with k = {o.K}. " +
                          $"Each real image i gets the radius r_i of its {o.K}th nearest other real image; density = Σ_j Σ_i 1[‖F_j − R_i‖ ≤ r_i] / (k·M) " +
                          "(fidelity: about 1 when synthetic images look like real ones, can exceed 1), coverage = the fraction of real images whose ball holds " +
                          "at least one synthetic image (diversity, 0 to 1).");
            md.AppendLine();
            md.AppendLine($"- Feature space: {Escape(doc.FeatureSpace)}, the same for every run; synthetic images are resized to the real size first.");
            md.AppendLine($"- Real reference: at most {o.RealPerClass} training images per class, drawn with seed {o.Seed}.");
            md.AppendLine("- *density*, *coverage*, *in-manifold*: per class (synthetic images of class c against real images of class c), averaged over the classes; " +
                          "*global*: all synthetic images against all reference images, labels ignored.");
            md.AppendLine("- *in-manifold*: the fraction of synthetic images inside at least one real ball, which is what the EVLF paper (§5.4) reports as \"coverage\".");
            md.AppendLine("- Coverage grows with the number of synthetic images M: with M = IPC images per class against hundreds of real ones it is small by construction, so compare it between runs of the same IPC only.");
            if (judged)
                md.AppendLine($"- *agreement*: the percentage of a run's images that a classifier trained on the real training split assigns to the class they were made for " +
                              $"(class fidelity; *lowest class*: the class it agrees with least). The judge: {Escape(doc.AgreementJudge!)}. " +
                              "Real images score about the judge's own test accuracy.");
            md.AppendLine();
        }

        // ---- figures -------------------------------------------------------------------------------
        var withFigures = entries.Where(e => e.SheetPath is not null || e.ScatterPath is not null).ToArray();
        if (withFigures.Length > 0)
        {
            md.AppendLine("## Figures").AppendLine();
            md.AppendLine($"Contact sheets show one row per class (the number in front is the class index), the run's first {ContactSheet.DefaultColumns} images per class. " +
                          $"PCA scatters show the first two principal components of the feature space: {doc.ScatterRealPerClass} real reference images per class as grey dots, " +
                          "the synthetic images as discs coloured by class.");
            md.AppendLine();
            if (doc.ClassNames.Count > 0)
            {
                md.AppendLine("| index | class | colour |");
                md.AppendLine("|---|---|---|");
                for (int c = 0; c < doc.ClassNames.Count; c++)
                    md.AppendLine($"| {c} | {Escape(doc.ClassNames[c])} | `{ClassPalette.Of(c, doc.ClassNames.Count)}` |");
                md.AppendLine();
            }
            foreach (var e in withFigures)
            {
                md.AppendLine($"### {Escape(e.Run.Name)} ({Escape(e.Run.Label)}, IPC {e.Run.Ipc?.ToString(CultureInfo.InvariantCulture) ?? "?"})").AppendLine();
                if (e.SheetPath is not null) md.AppendLine($"![images of {Escape(e.Run.Name)}]({e.SheetPath})").AppendLine();
                if (e.ScatterPath is not null) md.AppendLine($"![PCA of {Escape(e.Run.Name)}]({e.ScatterPath})").AppendLine();
            }
        }
        return md.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>
    /// "generation seeds × classifiers": "3 × 3" when every generation seed has as many paired classifiers, "3 × 1–3"
    /// when they differ (a seed evaluated over fewer classifier seeds), so the grid never claims more differences than
    /// "ahead" counts.
    /// </summary>
    static string SeedGrid(IReadOnlyList<EvlfPair> pairs)
    {
        int fewest = pairs.Min(p => p.Differences.Count), most = pairs.Max(p => p.Differences.Count);
        return fewest == most
            ? FormattableString.Invariant($"{pairs.Count} × {most}")
            : FormattableString.Invariant($"{pairs.Count} × {fewest}–{most}");
    }

    /// <summary>A table row; empty cells are written "| |".</summary>
    static string Row(params string[] cells) => "|" + string.Concat(cells.Select(c => c.Length == 0 ? " |" : $" {c} |"));

    /// <summary>The order of rows: the standard methods first, in their order.</summary>
    static int Rank(string label)
    {
        int i = PendingRun.StandardLabels.ToList().IndexOf(label);
        return i >= 0 ? i : PendingRun.StandardLabels.Count;
    }

    /// <summary>
    /// The runs of one summary cell in groups: evaluated runs that differ only by their generation seed (equal
    /// <see cref="RunRecord.Settings"/> and fusion settings, the same evaluation, every classifier's accuracy recorded,
    /// distinct seeds) form one group; every other run is a group of its own. Groups keep the order of their first run.
    /// </summary>
    static List<List<RunRecord>> SeedGroups(IEnumerable<RunRecord> runs)
    {
        var groups = new List<List<RunRecord>>();
        foreach (var r in runs)
        {
            var group = r.Settings is null || r.Accuracy is not { Accuracies.Count: > 0 } a ? null
                : groups.FirstOrDefault(g => g[0].Settings == r.Settings && g[0].FusionSettings == r.FusionSettings
                                             && g[0].Accuracy is { Accuracies.Count: > 0 } first && first.SameProtocolAs(a) && g.All(o => o.Seed != r.Seed));
            if (group is null) groups.Add([r]);
            else group.Add(r);
        }
        return groups;
    }

    /// <summary>Mean ± population standard deviation over every classifier of <paramref name="runs"/>, and how many generation seeds.</summary>
    static string Pooled(IReadOnlyList<RunRecord> runs)
    {
        var all = runs.SelectMany(r => r.Accuracy!.Accuracies).ToArray();
        return FormattableString.Invariant($"{all.Average():F2} ± {EvaluationResult.PopulationStd(all):F2} ({runs.Count} seeds)");
    }

    /// <summary>"mean ± std"; one repeat has no spread to show, so it says so instead of "± 0.00".</summary>
    static string Accuracy(RunAccuracy a) =>
        a.Repeats == 1 ? FormattableString.Invariant($"{a.Mean:F2} (1 repeat)")
        : double.IsFinite(a.Std) ? FormattableString.Invariant($"{a.Mean:F2} ± {a.Std:F2}")
        : FormattableString.Invariant($"{a.Mean:F2}");

    /// <summary>The lowest class's agreement and, where the class names are known, its name: "60.0 (Shirt)".</summary>
    static string Lowest(ClassAgreement? agreement, IReadOnlyList<string> classNames) =>
        agreement?.LowestClass is int c
            ? Percent(agreement.Lowest) + (c < classNames.Count ? $" ({Escape(classNames[c])})" : "")
            : "–";

    static string Percent(double? fraction) => fraction is double f ? (100 * f).ToString("F1", CultureInfo.InvariantCulture) : "–";

    static string Metric(double? v) => v is double d && double.IsFinite(d) ? d.ToString("F3", CultureInfo.InvariantCulture) : "–";

    /// <summary>Keeps table cells intact: pipes escaped, line breaks flattened.</summary>
    static string Escape(string text) => text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
}
