using System.Security.Cryptography;
using System.Text;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// A fingerprint of a dataset for cache keys and provenance: its spec, split sizes, class names, every training
/// label and source, and the training split's content (<see cref="DatasetSplit.AppendContentIdentity"/>): the pixels
/// of in-memory sets (IDX, CIFAR), each file's size and modification time for image folders. Rewriting the data in
/// place therefore gives a new identity, and no stage cached for the old data is reused.
/// </summary>
public static class DataIdentity
{
    /// <summary>
    /// The identity of <paramref name="dataset"/> under the spec it was opened from (<see cref="ImageDataset.Spec"/>, in its
    /// canonical form), or from its content alone for a dataset built in memory: the same data opened by path or passed
    /// opened gives the same identity.
    /// </summary>
    public static string Of(ImageDataset dataset) => Of(dataset.Spec?.ToString() ?? "", dataset);

    /// <summary>The identity of <paramref name="dataset"/> as named by <paramref name="spec"/>.</summary>
    public static string Of(string spec, ImageDataset dataset)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => sha.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Add(spec);
        Add($"{dataset.Train.Count} {dataset.Test.Count} {dataset.Channels}");
        foreach (var c in dataset.ClassNames) Add(c);
        var labels = dataset.Train.Labels();
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()));
        for (int i = 0; i < dataset.Train.Count; i++) Add(dataset.Train.SourceOf(i));
        dataset.Train.AppendContentIdentity(sha);
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }
}
