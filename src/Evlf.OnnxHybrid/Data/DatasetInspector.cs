namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Decodes every sample of a dataset once (what the command line's dataset inspection does), so corrupt files are found
/// before a long run starts, and counts samples per split and class.
/// </summary>
public static class DatasetInspector
{
    /// <summary>The <c>skipBad</c> argument of <see cref="Inspect"/>, as messages name it.</summary>
    public const string SkipBadOption = $"{nameof(DatasetInspector)}.{nameof(Inspect)}(skipBad)";

    /// <summary>
    /// Inspects both splits. Without <paramref name="skipBad"/> the first undecodable file (lowest index) stops the
    /// inspection with a <see cref="UserInputException"/> naming it; with it, such files are listed in the report
    /// and left out of the counts (<see cref="ImageDataset.WithoutBad"/> then drops them).
    /// File-backed splits are decoded in parallel on all cores.
    /// </summary>
    public static DatasetReport Inspect(ImageDataset dataset, bool skipBad = false, IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var train = InspectSplit(dataset.Train, dataset.ClassCount, skipBad, progress, cancellationToken);
        var test = InspectSplit(dataset.Test, dataset.ClassCount, skipBad, progress, cancellationToken);
        return new DatasetReport(dataset.Name, dataset.ClassNames, dataset.Channels, train, test);
    }

    private static SplitReport InspectSplit(DatasetSplit split, int classCount, bool skipBad, IProgress<WorkProgress>? progress,
        CancellationToken cancellationToken)
    {
        int total = split.Count;
        var ok = new bool[total];
        var widths = new int[total];
        var heights = new int[total];
        var problems = new string?[total];
        int done = 0, reportEvery = Math.Max(1, total / 200);
        var counting = new Lock();
        progress?.Report(new WorkProgress($"decoding {split.Name}", 0, total));

        var parallel = new ParallelOptions
        {
            CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = split.InMemory ? 1 : Environment.ProcessorCount,
        };
        Parallel.For(0, total, parallel, (i, state) =>
        {
            try
            {
                var image = split.Load(i);
                widths[i] = image.Width;
                heights[i] = image.Height;
                ok[i] = true;
            }
            catch (UserInputException e)
            {
                problems[i] = e.Message;
                if (!skipBad) state.Break(); // iterations below i still run, so the lowest bad index is found
            }
            // Counted and reported under one lock: two threads that count 3 and 4 must not report 4 before 3.
            lock (counting)
            {
                int n = ++done;
                if (progress != null && (n % reportEvery == 0 || n == total)) progress.Report(new WorkProgress($"decoding {split.Name}", n, total));
            }
        });

        var bad = new List<BadSample>();
        for (int i = 0; i < total; i++)
            if (problems[i] is { } problem) bad.Add(new BadSample(i, split.SourceOf(i), problem));
        if (bad.Count > 0 && !skipBad)
            throw UserInputException.ForOptions($"{bad[0].Problem.TrimEnd('.')}; skip undecodable files with {SkipBadOption}.", [SkipBadOption]);

        var perClass = new int[classCount];
        int minW = int.MaxValue, maxW = 0, minH = int.MaxValue, maxH = 0;
        for (int i = 0; i < total; i++)
        {
            if (!ok[i]) continue;
            perClass[split.LabelOf(i)]++;
            minW = Math.Min(minW, widths[i]);
            maxW = Math.Max(maxW, widths[i]);
            minH = Math.Min(minH, heights[i]);
            maxH = Math.Max(maxH, heights[i]);
        }
        if (maxW == 0) minW = minH = 0;
        return new SplitReport(split.Name, total, perClass, bad, minW, maxW, minH, maxH);
    }
}
