using System.Text.Json;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Reads a set written by <see cref="SyntheticSetWriter"/> back as a dataset: class names and label order from
/// manifest.json, images <c>images/&lt;folder&gt;/0.png … (count−1).png</c> in numeric order as the train split,
/// and an empty test split (evaluation tests on the real dataset's test split).
/// </summary>
public static class SyntheticSetReader
{
    public const string ManifestFile = "manifest.json";

    /// <summary>Largest manifest read; evlf's own are a few kilobytes.</summary>
    public const long MaxManifestBytes = 64L * 1024 * 1024;

    /// <summary>Whether <paramref name="directory"/> looks like a synthetic set (has manifest.json and images/).</summary>
    public static bool IsSyntheticSet(string directory) =>
        File.Exists(Path.Combine(directory, ManifestFile)) && Directory.Exists(Path.Combine(directory, "images"));

    public static ImageDataset Open(string directory, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        var manifestPath = Path.Combine(directory, ManifestFile);
        var status = PathStatus.Of(manifestPath);
        if (status.Kind == PathKind.Missing)
            throw new UserInputException($"Synthetic image set '{directory}' has no {ManifestFile}; expected images/<class>/<n>.png and {ManifestFile} as evlf writes them.");
        PathStatus.RequireFile(manifestPath, "Manifest");
        if (status.Size > MaxManifestBytes)
            throw new UserInputException($"Manifest '{manifestPath}' is {status.Size} bytes, more than the {MaxManifestBytes} a synthetic set's manifest may have.");

        JsonElement set;
        try
        {
            using var doc = JsonDocument.Parse(ReadManifest(manifestPath));
            if (!doc.RootElement.TryGetProperty(SyntheticSetWriter.ManifestKey, out var s) || s.ValueKind != JsonValueKind.Object)
                throw new UserInputException($"Manifest '{manifestPath}' has no '{SyntheticSetWriter.ManifestKey}' object; expected a manifest written by evlf.");
            set = s.Clone();
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Manifest '{manifestPath}' is not valid JSON: {e.Message}", e);
        }

        try
        {
            var format = set.GetProperty("format").GetString();
            if (format != SyntheticSetWriter.Format)
                throw new UserInputException($"Manifest '{manifestPath}' has image-set format '{format}'; expected '{SyntheticSetWriter.Format}'.");
            int channels = options.ChannelsOr(set.GetProperty("channels").GetInt32());
            var names = new List<string>();
            var paths = new List<string>();
            var labels = new List<int>();
            foreach (var c in set.GetProperty("classes").EnumerateArray())
            {
                int label = c.GetProperty("label").GetInt32();
                if (label != names.Count)
                    throw new UserInputException($"Manifest '{manifestPath}' lists class label {label} at position {names.Count}; expected labels 0, 1, 2, … in order.");
                names.Add(c.GetProperty("name").GetString()
                    ?? throw new UserInputException($"Manifest '{manifestPath}' gives class {label} a null name; expected a string."));
                var folder = c.GetProperty("folder").GetString() ?? "";
                if (!ClassFolderNames.IsSafe(folder))
                    throw new UserInputException($"Manifest '{manifestPath}' names class folder '{folder}', which is not a safe folder name.");
                int count = c.GetProperty("count").GetInt32();
                if (count < 0) throw new UserInputException($"Manifest '{manifestPath}' gives class '{names[^1]}' {count} images; expected a count of 0 or more.");
                // The class folder must really be inside the set (a link out is refused), and so must every image.
                ConfinedPath.Resolve(directory, Path.Combine("images", folder), $"Synthetic image set '{directory}': class folder");
                for (int n = 0; n < count; n++)
                {
                    var path = Path.Combine(directory, "images", folder, $"{n}.png");
                    CheckImage(directory, path, $"images/{folder}/{n}.png", count, names[^1]);
                    paths.Add(path);
                    labels.Add(label);
                }
            }
            if (names.Count == 0) throw new UserInputException($"Manifest '{manifestPath}' lists no classes.");
            var train = new ImageFileSplit("train", paths, labels, channels, options.Decode);
            return new ImageDataset($"synthetic set ({directory})", names, train, DatasetSplit.Empty("test", channels));
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UserInputException($"Manifest '{manifestPath}' has a missing or mistyped imageSet field: {e.Message}", e);
        }
    }

    static byte[] ReadManifest(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"Manifest '{path}' could not be read: {e.Message}", e);
        }
    }

    /// <summary>An image the manifest lists must be a regular file inside the set; a link is resolved and must stay inside too.</summary>
    static void CheckImage(string directory, string path, string relative, int count, string className)
    {
        var status = PathStatus.Of(path, followLinks: false);
        if (status.Kind == PathKind.Regular) return;
        if (status.Kind == PathKind.Link)
        {
            var resolved = ConfinedPath.Resolve(directory, relative, $"Synthetic image set '{directory}': image");
            if (PathStatus.Of(resolved).IsRegular) return;
        }
        throw new UserInputException(status.Kind == PathKind.Missing || status.Kind == PathKind.Link
            ? $"Synthetic image set '{directory}' lacks '{path}', which its manifest lists ({count} images of class '{className}')."
            : $"Synthetic image set '{directory}' has '{path}', which its manifest lists, but it is a {(status.Kind == PathKind.Directory ? "folder" : "FIFO, socket or device")}, not a regular file.");
    }
}
