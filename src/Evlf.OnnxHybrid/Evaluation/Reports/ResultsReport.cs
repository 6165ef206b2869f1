using Microsoft.Extensions.Logging;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation.Metrics;
using Evlf.OnnxHybrid.Output;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>
/// `evlf report`: reads run folders (<see cref="RunRecord"/>), scores each image set's density and coverage against
/// the real training images (<see cref="FidelityReference"/>, one reference for all runs), draws a contact sheet and a
/// PCA scatter per run into <c>figures/</c> beside the markdown file, and writes the markdown
/// (<see cref="ResultsMarkdown"/>). Every file is written atomically. Run folders are read before anything is written,
/// so a bad folder leaves the previous report in place.
/// </summary>
public static class ResultsReport
{
    public const string FiguresFolder = "figures";

    const string SheetSuffix = "-sheet.png", ScatterSuffix = "-pca.png";

    /// <summary>What every report says in its opening paragraph (<see cref="ResultsMarkdown"/>): how a file evlf may replace is known.</summary>
    public const string Signature = "Written by `evlf report`";

    const string OutOption = $"{nameof(ReportOptions)}.{nameof(ReportOptions.Out)}";

    /// <summary>Whether the markdown file at <paramref name="path"/> is a report evlf wrote (its opening carries <see cref="Signature"/>).</summary>
    public static bool IsReport(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var opening = new char[4096];
            int n = reader.ReadBlock(opening);
            return new string(opening, 0, n).Contains(Signature, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A figures folder written before evlf marked its folders: nothing but contact sheets and scatters.</summary>
    static IEnumerable<string>? LegacyFigures(string folder)
    {
        var names = Directory.EnumerateFileSystemEntries(folder).Select(entry => Path.GetFileName(entry)).ToList();
        return names.All(n => n.EndsWith(SheetSuffix, StringComparison.Ordinal) || n.EndsWith(ScatterSuffix, StringComparison.Ordinal)) ? names : null;
    }

    public static ReportDocument Write(ReportOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        if (options.Runs.Count == 0)
            throw new UserInputException("No run folder was given; expected one or more RUN_DIR folders written by evlf distill.");
        if (options.ScatterRealPerClass < 0)
            throw new UserInputException($"Real points per class in the scatter must be 0 or more; got {options.ScatterRealPerClass}.");
        var requested = options.Pending.Select(PendingRun.Parse).ToArray();
        var runs = options.Runs.Select(RunRecord.Read).ToArray();
        var outPath = Path.GetFullPath(options.Out);
        if (Directory.Exists(outPath))
            throw new UserInputException($"Output '{options.Out}' is a folder; expected the path of a markdown file such as docs/RESULTS.md.");
        if (File.Exists(outPath) && !IsReport(outPath))
            throw UserInputException.ForOptions($"{OutOption} '{options.Out}' exists and was not written by evlf report; move it away or choose another {OutOption} (evlf never replaces what it did not write).", [OutOption]);
        var outDir = Path.GetDirectoryName(outPath)!;
        PathsApart.Require([new(OutOption, outPath), new("the figures folder", Path.Combine(outDir, FiguresFolder))],
            options.Runs.Select(r => new PathsApart.Named("the run folder", r)));
        var data = options.Data ?? AgreedDataSpec(runs) ?? "fashion-mnist";
        var spec = DataSpec.Parse(data);

        var fidelity = new SetFidelity?[runs.Length];
        var sheets = new string?[runs.Length];
        var scatters = new string?[runs.Length];
        var agreement = new ClassAgreement?[runs.Length];
        string? judgeText = null;
        IReadOnlyList<string> classNames = [];
        string? featureSpace = null;
        if (options.Metrics && runs.Any(r => r.HasImages))
        {
            logger?.LogInformation("{Message}", $"opening {spec}");
            var real = spec.Open(logger: logger);
            classNames = real.ClassNames;
            using var reference = FidelityReference.Build(real, options.Fidelity, logger);
            var normalization = DatasetNormalization.For(spec, real);
            using var judge = options.Agreement is null ? null
                : Teacher.LoadOrTrain(real, spec.ToString(), normalization, options.Agreement, options.Fidelity.Seed, logger: logger, cancellationToken: cancellationToken);
            if (judge is not null)
                judgeText = FormattableString.Invariant($"{judge.Options.Summary}, seed {options.Fidelity.Seed}; {judge.TestAccuracy * 100:F2}% on the real test split (teacher key {judge.Key})");
            featureSpace = reference.Space.Describe();
            var realPoints = ScatterReal(reference, options.ScatterRealPerClass, options.Fidelity.Seed);
            var names = FigureNames(runs);
            using var figures = OutputFolder.Open(Path.Combine(outDir, FiguresFolder), "report", option: "the figures folder", legacy: LegacyFigures);
            for (int i = 0; i < runs.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!runs[i].HasImages) continue;
                logger?.LogInformation("{Message}", $"scoring {runs[i].Directory}");
                var (set, map, images, labels) = LoadSet(runs[i].Directory, real);
                if (images.Count == 0) continue;
                using var features = reference.Space.Transform(images);
                fidelity[i] = reference.Score(features, labels);
                if (judge is not null) agreement[i] = Agreement(judge, set, map, real.ClassCount, normalization, cancellationToken);

                var byClass = Enumerable.Range(0, real.ClassCount).Select(c => (IReadOnlyList<ByteImage>)images.Where((_, k) => labels[k] == c).ToArray()).ToArray();
                var sheet = figures.ReplaceFile(names[i] + SheetSuffix, temp => File.WriteAllBytes(temp, ContactSheet.Render(byClass).EncodePng()));
                var scatter = figures.ReplaceFile(names[i] + ScatterSuffix, temp => File.WriteAllBytes(temp, FeatureScatter.Render(realPoints, Points(features, labels), real.ClassCount).EncodePng()));
                sheets[i] = Relative(outDir, sheet);
                scatters[i] = Relative(outDir, scatter);
            }
        }

        var doc = new ReportDocument
        {
            Entries = runs.Select((r, i) => new ReportEntry(r, Relative(outDir, Path.GetFullPath(r.Directory)), fidelity[i], sheets[i], scatters[i], agreement[i])).ToArray(),
            Pending = PendingCells(runs, requested),
            Data = spec.ToString(),
            ClassNames = classNames,
            FeatureSpace = featureSpace,
            Fidelity = featureSpace is null ? null : options.Fidelity,
            AgreementJudge = judgeText,
            ScatterRealPerClass = options.ScatterRealPerClass,
            ShowPublished = spec.Kind == DataSpecKind.FashionMnist,
        };
        AtomicFile.Write(outPath, ResultsMarkdown.Render(doc));
        logger?.LogInformation("{Message}", $"wrote {outPath}");
        return doc;
    }

    /// <summary>
    /// The pending cells: each standard method (<see cref="PendingRun.StandardLabels"/>) at each IPC that a run or a
    /// requested entry names, where no run has that label and IPC, plus the requested entries without a run. A requested
    /// entry's reason is kept.
    /// </summary>
    public static IReadOnlyList<PendingRun> PendingCells(IReadOnlyList<RunRecord> runs, IReadOnlyList<PendingRun> requested)
    {
        var done = runs.Where(r => r.Ipc is not null).Select(r => (r.Label, r.Ipc!.Value)).ToHashSet();
        var ipcs = runs.Where(r => r.Ipc is not null).Select(r => r.Ipc!.Value).Concat(requested.Select(p => p.Ipc)).Distinct().Order();
        var cells = new List<PendingRun>();
        foreach (var label in PendingRun.StandardLabels)
            foreach (var ipc in ipcs)
                if (!done.Contains((label, ipc)))
                    cells.Add(requested.FirstOrDefault(p => p.Label == label && p.Ipc == ipc) ?? new PendingRun(label, ipc, null));
        foreach (var p in requested)
            if (!done.Contains((p.Label, p.Ipc)) && !cells.Any(c => c.Label == p.Label && c.Ipc == p.Ipc)) cells.Add(p);
        return cells;
    }

    /// <summary>The data spec the runs' manifests agree on, or null.</summary>
    static string? AgreedDataSpec(IReadOnlyList<RunRecord> runs)
    {
        var specs = runs.Select(r => r.DataSpec).Where(s => s is not null).Distinct().ToArray();
        return specs.Length == 1 ? specs[0] : null;
    }

    /// <summary>Every image of the set and its label in the real dataset's order.</summary>
    static (ImageDataset Set, int[] Map, IReadOnlyList<ByteImage> Images, int[] Labels) LoadSet(string directory, ImageDataset real)
    {
        var set = SyntheticSetReader.Open(directory, new DatasetOptions(Channels: real.Channels));
        var map = SyntheticSetEvaluation.MapClasses(set.ClassNames, real.ClassNames, directory, real.Name);
        var images = new ByteImage[set.Train.Count];
        Parallel.For(0, images.Length, i => images[i] = set.Train.Load(i));
        var labels = Enumerable.Range(0, images.Length).Select(i => map[set.Train.LabelOf(i)]).ToArray();
        return (set, map, images, labels);
    }

    /// <summary>The set's images (opened by <see cref="LoadSet"/>, <paramref name="map"/> to the real labels) at the judge's size and normalisation, classified by the judge.</summary>
    static ClassAgreement Agreement(Teacher judge, ImageDataset set, int[] map, int classes, Normalization normalization, CancellationToken cancellationToken)
    {
        using var images = LabelledImages.Load(set.Train, normalization, judge.Channels, judge.Height, judge.Width, labelMap: map);
        return ClassAgreement.Measure(judge.Network, images, classes, cancellationToken: cancellationToken);
    }

    /// <summary>At most <paramref name="perClass"/> reference rows per class (seeded), as 2-D points on the first two components.</summary>
    static IReadOnlyList<ScatterPoint> ScatterReal(FidelityReference reference, int perClass, int seed)
    {
        var labels = reference.RealLabels;
        var random = Seeds.Random(seed, SeedStream.ReportRealImages);
        var chosen = new List<int>();
        foreach (var c in labels.Distinct().Order())
        {
            var rows = Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray();
            random.Shuffle(rows);
            chosen.AddRange(rows.Take(perClass));
        }
        chosen.Sort();
        using var index = tensor(chosen.Select(i => (long)i).ToArray());
        using var rowsFeatures = reference.RealFeatures.index_select(0, index);
        return Points(rowsFeatures, chosen.Select(i => labels[i]).ToArray());
    }

    static IReadOnlyList<ScatterPoint> Points(Tensor features, IReadOnlyList<int> labels)
    {
        int n = (int)features.shape[0], d = (int)features.shape[1];
        var values = features.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        return Enumerable.Range(0, n).Select(i => new ScatterPoint(values[i * d], d > 1 ? values[i * d + 1] : 0.0, labels[i])).ToArray();
    }

    /// <summary>File-name-safe, unique names for the runs' figures (the folder names, with -2, -3 … on clashes).</summary>
    static string[] FigureNames(IReadOnlyList<RunRecord> runs)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return runs.Select(r =>
        {
            var stem = Regex.Replace(r.Name, "[^A-Za-z0-9._-]+", "-").Trim('-', '.');
            if (stem.Length == 0) stem = "run";
            var name = stem;
            for (int k = 2; !used.Add(name); k++) name = $"{stem}-{k}";
            return name;
        }).ToArray();
    }

    static string Relative(string fromDir, string path) => Path.GetRelativePath(fromDir, path).Replace('\\', '/');
}
