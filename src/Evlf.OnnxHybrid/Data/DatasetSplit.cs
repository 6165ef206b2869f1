using System.Security.Cryptography;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// One split (train or test) of a labelled image dataset: a fixed, ordered list of samples whose labels are
/// known up front and whose images are produced by <see cref="Load"/>, from memory or by decoding a file.
/// Safe to read from several threads at once.
/// </summary>
public abstract class DatasetSplit
{
    protected DatasetSplit(string name) => Name = name;

    /// <summary>"train" or "test" (or a caller's name for a subset).</summary>
    public string Name { get; }

    public abstract int Count { get; }

    /// <summary>Channels of every image <see cref="Load"/> returns (1 or 3).</summary>
    public abstract int Channels { get; }

    /// <summary>True when images are held in memory (loading cannot fail); false when each load decodes a file.</summary>
    public abstract bool InMemory { get; }

    /// <summary>The class index of sample <paramref name="index"/>, without loading its image.</summary>
    public abstract int LabelOf(int index);

    /// <summary>Where sample <paramref name="index"/> comes from, for messages: a file path, or "file #record".</summary>
    public abstract string SourceOf(int index);

    /// <summary>
    /// The image of sample <paramref name="index"/>, a fresh copy the caller may modify. Throws
    /// <see cref="UserInputException"/> naming the file when it cannot be decoded.
    /// </summary>
    public abstract ByteImage Load(int index);

    /// <summary>Sample <paramref name="index"/>: its image (as <see cref="Load"/>) and its label.</summary>
    public (ByteImage Image, int Label) Get(int index) => (Load(index), LabelOf(index));

    /// <summary>All labels, in sample order.</summary>
    public int[] Labels()
    {
        var labels = new int[Count];
        for (int i = 0; i < labels.Length; i++) labels[i] = LabelOf(i);
        return labels;
    }

    /// <summary>Number of samples of each class, for classes 0 .. <paramref name="classCount"/> − 1.</summary>
    public int[] CountPerClass(int classCount)
    {
        var counts = new int[classCount];
        for (int i = 0; i < Count; i++) counts[LabelOf(i)]++;
        return counts;
    }

    /// <summary>A view of the samples at <paramref name="indices"/>, in that order (nothing is copied or decoded).</summary>
    public DatasetSplit Subset(IReadOnlyList<int> indices, string? name = null)
    {
        foreach (var i in indices)
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Index {i} is outside split '{Name}' of {Count} samples.");
        return new SubsetSplit(this, indices.ToArray(), name ?? Name);
    }

    /// <summary>
    /// Adds to <paramref name="hash"/> what identifies this split's content, so that a cache keyed on it notices when
    /// images change: in-memory splits their pixels, file-backed ones each file's size and modification time. The
    /// default covers only the samples' sources; every split in this library overrides it.
    /// </summary>
    public virtual void AppendContentIdentity(IncrementalHash hash)
    {
        for (int i = 0; i < Count; i++) hash.AppendData(System.Text.Encoding.UTF8.GetBytes(SourceOf(i) + "\n"));
    }

    /// <summary>A split with no samples.</summary>
    public static DatasetSplit Empty(string name, int channels) => new ImageFileSplit(name, [], [], channels);

    public override string ToString() => $"{Name}: {Count} samples, {Channels} channel(s)";
}
