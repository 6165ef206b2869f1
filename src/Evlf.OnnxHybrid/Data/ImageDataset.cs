namespace Evlf.OnnxHybrid.Data;

/// <summary>A labelled image dataset: class names, a train split and a test split whose labels index the class names.</summary>
public sealed class ImageDataset
{
    /// <param name="name">What the dataset is and where it came from.</param>
    /// <param name="classNames">Class names; label i names classNames[i].</param>
    /// <param name="train">The training split.</param>
    /// <param name="test">The held-out split (may be empty).</param>
    /// <param name="skipped">What the reader passed over while walking the dataset's folders (none for file formats).</param>
    public ImageDataset(string name, IReadOnlyList<string> classNames, DatasetSplit train, DatasetSplit test, IReadOnlyList<SkippedEntry>? skipped = null)
    {
        if (classNames.Count == 0) throw new ArgumentException("A dataset needs at least one class.", nameof(classNames));
        Name = name;
        ClassNames = classNames.ToArray();
        Train = train;
        Test = test;
        Skipped = skipped?.ToArray() ?? [];
    }

    /// <summary>What the dataset is and where it came from, e.g. "fashion-mnist (/usr/share/datasets/fashion-mnist)".</summary>
    public string Name { get; }

    /// <summary>Class names; label i names ClassNames[i].</summary>
    public IReadOnlyList<string> ClassNames { get; }

    public int ClassCount => ClassNames.Count;

    public DatasetSplit Train { get; }

    /// <summary>The held-out split (IDX "t10k", CIFAR "test_batch", image folders' val/); may be empty.</summary>
    public DatasetSplit Test { get; }

    /// <summary>
    /// Entries of the dataset's folders that were not taken as images (other files, hidden or linked folders, links out
    /// of the dataset, FIFOs), each with its reason; <see cref="SkippedEntry.Summary"/> makes the warning line.
    /// </summary>
    public IReadOnlyList<SkippedEntry> Skipped { get; }

    /// <summary>
    /// The data spec the dataset was opened from (<see cref="DataSpec.Open(DatasetOptions?, Microsoft.Extensions.Logging.ILogger?)"/>);
    /// null for a dataset built in memory. Cache keys (<see cref="Distillation.DataIdentity"/>) and the normalisation
    /// constants (<see cref="DatasetNormalization"/>) follow it; subsets keep it.
    /// </summary>
    public DataSpec? Spec { get; init; }

    /// <summary>Channels of loaded images (those of the train split).</summary>
    public int Channels => Train.Channels;

    /// <summary>The same dataset with other splits (e.g. subsets).</summary>
    public ImageDataset WithSplits(DatasetSplit train, DatasetSplit test) => new(Name, ClassNames, train, test, Skipped) { Spec = Spec };

    /// <summary>The same dataset without the samples a report found undecodable.</summary>
    public ImageDataset WithoutBad(DatasetReport report)
    {
        return WithSplits(Drop(Train, report.Train), Drop(Test, report.Test));

        static DatasetSplit Drop(DatasetSplit split, SplitReport r)
        {
            if (r.Bad.Count == 0) return split;
            var bad = r.Bad.Select(b => b.Index).ToHashSet();
            return split.Subset(Enumerable.Range(0, split.Count).Where(i => !bad.Contains(i)).ToArray());
        }
    }

    public override string ToString() => $"{Name}: {ClassCount} classes, train {Train.Count}, test {Test.Count}";
}
