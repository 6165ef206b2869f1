namespace Evlf.OnnxHybrid.Data;

/// <summary>A sample that could not be decoded.</summary>
/// <param name="Index">Its index in the split.</param>
/// <param name="Source">Its file (or file and record).</param>
/// <param name="Problem">The one-sentence reason, naming the file.</param>
public sealed record BadSample(int Index, string Source, string Problem);

/// <summary>What decoding every sample of one split found.</summary>
/// <param name="Split">"train" or "test".</param>
/// <param name="Total">Samples in the split, bad ones included.</param>
/// <param name="PerClass">Decoded samples per class index.</param>
/// <param name="Bad">Samples skipped because they could not be decoded (only with skipBad).</param>
/// <param name="MinWidth">Smallest decoded width (0 when nothing decoded).</param>
/// <param name="MaxWidth">Largest decoded width.</param>
/// <param name="MinHeight">Smallest decoded height.</param>
/// <param name="MaxHeight">Largest decoded height.</param>
public sealed record SplitReport(string Split, int Total, IReadOnlyList<int> PerClass, IReadOnlyList<BadSample> Bad,
    int MinWidth, int MaxWidth, int MinHeight, int MaxHeight)
{
    /// <summary>Samples that decoded.</summary>
    public int Decoded => Total - Bad.Count;

    /// <summary>Samples skipped as undecodable.</summary>
    public int Skipped => Bad.Count;
}

/// <summary>The result of <see cref="DatasetInspector.Inspect"/>: split sizes, per-class counts and skipped files.</summary>
public sealed record DatasetReport(string Dataset, IReadOnlyList<string> ClassNames, int Channels, SplitReport Train, SplitReport Test)
{
    /// <summary>Undecodable samples skipped in both splits.</summary>
    public int Skipped => Train.Skipped + Test.Skipped;
}
