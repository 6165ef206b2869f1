using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>Writes chosen real training images (from <see cref="RandomSelection"/> or <see cref="Herding"/>) as a synthetic set that <c>evlf eval</c> can train on.</summary>
public static class RealSubset
{
    /// <summary>
    /// Writes <c>root/images/&lt;class&gt;/&lt;n&gt;.png</c> for <paramref name="chosen"/>[c] of every class c, and a manifest with
    /// <paramref name="method"/>, ipc (the largest per-class count), the source dataset and the chosen indices plus
    /// <paramref name="metadata"/>. Atomic (<see cref="SyntheticSetWriter"/>).
    /// </summary>
    public static void Write(ImageDataset dataset, IReadOnlyList<int[]> chosen, string root, string method, JsonObject? metadata = null)
    {
        if (chosen.Count != dataset.ClassCount)
            throw new ArgumentException($"Need one index list per class: {dataset.ClassCount} classes, {chosen.Count} lists.", nameof(chosen));
        using var writer = SyntheticSetWriter.Create(root, dataset.ClassNames, dataset.Channels);
        for (int c = 0; c < chosen.Count; c++)
            foreach (var i in chosen[c])
            {
                if (dataset.Train.LabelOf(i) != c)
                    throw new ArgumentException($"Training sample {i} has label {dataset.Train.LabelOf(i)}, not {c}.", nameof(chosen));
                writer.Add(c, dataset.Train.Load(i));
            }
        var manifest = metadata is null ? new JsonObject() : (JsonObject)metadata.DeepClone();
        manifest["method"] = method;
        manifest["ipc"] = chosen.Max(c => c.Length);
        manifest["source"] = dataset.Name;
        manifest["trainIndices"] = new JsonArray(chosen.Select(c => (JsonNode)new JsonArray(c.Select(i => (JsonNode?)i).ToArray())).ToArray());
        writer.Commit(manifest);
    }
}
