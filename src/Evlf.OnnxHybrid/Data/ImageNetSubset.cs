namespace Evlf.OnnxHybrid.Data;

/// <summary>One ImageNet class of a subset.</summary>
/// <param name="Synset">WordNet id, also the class's folder name in ImageNet's train/ and val/ (e.g. "n01440764").</param>
/// <param name="ImageNetIndex">Position in ImageNet-1k's sorted synset list: the label ImageNet-trained models (DiT) use.</param>
/// <param name="Name">The WordNet class string (e.g. "tench, Tinca tinca"), what EVLF uses as the prompt.</param>
public sealed record ImageNetClass(string Synset, int ImageNetIndex, string Name);

/// <summary>
/// A named 10-class subset of ImageNet-1k (ImageNette, ImageWoof, ImageIDC), read from an ImageNet-style folder
/// (<c>train/&lt;synset&gt;/</c>, <c>val/&lt;synset&gt;/</c>). Labels follow the list order. The lists are data files
/// embedded in this assembly (Data/ImageNetSubsets/*.tsv), each citing its source in its header.
/// </summary>
public sealed class ImageNetSubset
{
    private static readonly Dictionary<string, (string Title, string Resource)> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["nette"] = ("ImageNette", "imagenette.tsv"),
        ["woof"] = ("ImageWoof", "imagewoof.tsv"),
        ["idc"] = ("ImageIDC", "imageidc.tsv"),
    };

    private ImageNetSubset(string key, string title, IReadOnlyList<ImageNetClass> classes)
    {
        Key = key;
        Title = title;
        Classes = classes;
    }

    /// <summary>The data-spec key: "nette", "woof" or "idc".</summary>
    public string Key { get; }

    /// <summary>Display name, e.g. "ImageWoof".</summary>
    public string Title { get; }

    public IReadOnlyList<ImageNetClass> Classes { get; }

    /// <summary>The keys <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Keys { get; } = ["nette", "woof", "idc"];

    /// <summary>The subset named <paramref name="key"/> ("nette", "woof" or "idc").</summary>
    public static ImageNetSubset Get(string key)
    {
        if (!Known.TryGetValue(key, out var entry))
            throw new UserInputException($"ImageNet subset '{key}' is unknown; expected one of {string.Join(", ", Keys)}.");
        return new ImageNetSubset(key.ToLowerInvariant(), entry.Title, Parse(entry.Resource));
    }

    /// <summary>
    /// Opens the subset from <paramref name="root"/>, a folder with train/ and val/ holding one folder per synset
    /// (full ImageNet, or a subset such as imagenette2 with the same layout). Every class needs a train folder
    /// with images; val/ must be sorted into synset folders.
    /// </summary>
    public ImageDataset Open(string root, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        if (!Directory.Exists(root)) throw new UserInputException($"ImageNet folder '{root}' does not exist.");
        var synsets = Classes.Select(c => c.Synset).ToArray();
        int channels = options.ChannelsOr(3);
        var splits = new List<DatasetSplit>();
        var walk = new FolderWalk(root);
        foreach (var (name, folder) in new[] { ("train", "train"), ("test", "val") })
        {
            var dir = walk.SplitFolder(folder)
                ?? throw new UserInputException($"ImageNet folder '{root}' has no {folder}/ subfolder; expected train/<synset>/ and val/<synset>/.");
            foreach (var c in Classes)
                if (!Directory.Exists(Path.Combine(dir, c.Synset)))
                    throw new UserInputException(
                        $"ImageNet folder '{dir}' has no class folder '{c.Synset}' ({c.Name}), which {Title} needs; expected {folder}/<synset>/ folders{(folder == "val" ? " (val/ sorted into synset folders)" : "")}.");
            splits.Add(ImageFolderReader.ReadSplit(name, dir, synsets, channels, options.Decode, requireEveryClass: true, walk));
        }
        return new ImageDataset($"imagenet {Key} ({root})", Classes.Select(c => c.Name).ToArray(), splits[0], splits[1], walk.Skipped);
    }

    private static IReadOnlyList<ImageNetClass> Parse(string resource)
    {
        var name = $"Evlf.OnnxHybrid.Data.ImageNetSubsets.{resource}";
        using var stream = typeof(ImageNetSubset).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        var classes = new List<ImageNetClass>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var cols = line.Split('\t');
            if (cols.Length != 3) throw new InvalidOperationException($"Embedded resource {name} has a malformed line: {line}");
            classes.Add(new ImageNetClass(cols[0], int.Parse(cols[1], System.Globalization.CultureInfo.InvariantCulture), cols[2]));
        }
        return classes;
    }
}
