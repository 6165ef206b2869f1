using System.Security.Cryptography;
using System.Text;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// A cheap fingerprint of a dataset for cache keys and provenance: its spec, split sizes, class names,
/// every training label and every training sample's source (file or record) — not the pixels.
/// </summary>
public static class DataIdentity
{
    public static string Of(string spec, ImageDataset dataset)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => sha.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Add(spec);
        Add($"{dataset.Train.Count} {dataset.Test.Count} {dataset.Channels}");
        foreach (var c in dataset.ClassNames) Add(c);
        var labels = dataset.Train.Labels();
        sha.AppendData(labels.SelectMany(BitConverter.GetBytes).ToArray());
        for (int i = 0; i < dataset.Train.Count; i++) Add(dataset.Train.SourceOf(i));
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }
}
