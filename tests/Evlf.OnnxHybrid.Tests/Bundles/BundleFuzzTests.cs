using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Bundles;

/// <summary>
/// Seeded mutations of a valid bundle.json (bytes, and values swapped for nulls, huge or
/// negative numbers, paths out of the folder) load or give a <see cref="UserInputException"/>, never another exception.
/// </summary>
public class BundleFuzzTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-bundle-fuzz-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static readonly JsonNode?[] Replacements =
    [
        null, -1, 0, 1, int.MaxValue, long.MaxValue, 1e300, -1e-300, "", "../vae_decoder.onnx", "/etc/hostname", "a\u0000b",
        "scaled-linear", "dit-class", "unet-text", true, new JsonArray(), new JsonObject(), new JsonArray(1, 2, 3),
    ];

    [Fact]
    public void MutatedManifestsLoadOrAreOneSentence()
    {
        var dir = TinyBundle.Create(Path.Combine(root, "bundle"), withUNet: false);
        var path = Path.Combine(dir, BundleManifest.FileName);
        var valid = File.ReadAllBytes(path);
        var random = new Random(16);
        int caught = 0;
        const int cases = 300;
        for (int i = 0; i < cases; i++)
        {
            byte[] bytes = i % 2 == 0 ? Fuzz.Mutate(valid, random, valid.Length) : ReplaceOneValue(valid, random);
            File.WriteAllBytes(path, bytes);
            // Check also opens the ONNX files the manifest names; it is slower, so every tenth case.
            if (i % 10 == 0) Fuzz.Check("bundle.json (check)", i, () => ModelBundle.Check(dir));
            else if (Fuzz.Check("bundle.json", i, () => ModelBundle.Load(dir))) caught++;
        }
        Assert.True(caught > cases / 2, $"only {caught} of {cases} mutated manifests were refused");
    }

    /// <summary>The manifest with one value, anywhere in the tree, swapped for a hostile one.</summary>
    static byte[] ReplaceOneValue(byte[] valid, Random random)
    {
        var node = JsonNode.Parse(valid)!;
        var slots = new List<(JsonNode Parent, object Key)>();
        void Collect(JsonNode n)
        {
            if (n is JsonObject o)
                foreach (var (k, v) in o.ToList()) { slots.Add((o, k)); if (v is not null) Collect(v); }
            else if (n is JsonArray a)
                for (int i = 0; i < a.Count; i++) { slots.Add((a, i)); if (a[i] is { } v) Collect(v); }
        }
        Collect(node);
        // Half the time an object or array is replaced: a null or a number where a section belongs is the harder case.
        var sections = slots.Where(s => Get(s) is JsonObject or JsonArray).ToList();
        var (parent, key) = random.Next(2) == 0 && sections.Count > 0 ? sections[random.Next(sections.Count)] : slots[random.Next(slots.Count)];
        var value = Replacements[random.Next(Replacements.Length)]?.DeepClone();
        if (parent is JsonObject obj) obj[(string)key] = value;
        else ((JsonArray)parent)[(int)key] = value;
        return System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());

        static JsonNode? Get((JsonNode Parent, object Key) slot) =>
            slot.Parent is JsonObject o ? o[(string)slot.Key] : ((JsonArray)slot.Parent)[(int)slot.Key];
    }
}
