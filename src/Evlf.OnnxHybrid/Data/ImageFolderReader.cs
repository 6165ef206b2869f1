namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Reads torchvision-style image folders: <c>DIR/train/&lt;class&gt;/…</c> and <c>DIR/val/&lt;class&gt;/…</c>
/// (or <c>test/</c>). Classes are train/'s subfolders sorted ordinally (label i = i-th name), files are found
/// recursively and sorted as torchvision does (folders by path, then names), both ordinal. Only .png, .jpg,
/// .jpeg, .webp and .bmp files count; hidden files and folders (leading '.') are ignored. Images are decoded
/// lazily, on each load.
/// </summary>
public static class ImageFolderReader
{
    public static ImageDataset Open(string directory, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        if (!Directory.Exists(directory)) throw new UserInputException($"Image folder '{directory}' does not exist.");
        var trainDir = Path.Combine(directory, "train");
        if (!Directory.Exists(trainDir))
            throw new UserInputException($"Image folder '{directory}' has no train/ subfolder; expected train/<class>/<image> and val/<class>/<image>.");
        var testDir = new[] { "val", "test" }.Select(s => Path.Combine(directory, s)).FirstOrDefault(Directory.Exists)
            ?? throw new UserInputException($"Image folder '{directory}' has no val/ (or test/) subfolder; expected train/<class>/<image> and val/<class>/<image>.");

        var classes = ClassFolders(trainDir);
        if (classes.Count == 0)
            throw new UserInputException($"Image folder '{trainDir}' has no class subfolders; expected train/<class>/<image>.");
        foreach (var extra in ClassFolders(testDir).Except(classes, StringComparer.Ordinal))
            throw new UserInputException(
                $"Image folder '{testDir}' has class folder '{extra}' that '{trainDir}' lacks; expected the same class folders in both splits.");

        int channels = options.ChannelsOr(3);
        var train = ReadSplit("train", trainDir, classes, channels, options.Decode, requireEveryClass: true);
        var test = ReadSplit("test", testDir, classes, channels, options.Decode, requireEveryClass: false);
        return new ImageDataset($"folder ({directory})", classes, train, test);
    }

    /// <summary>
    /// A lazy split over <paramref name="splitDir"/>/&lt;folder&gt; for each of <paramref name="classFolders"/>, label =
    /// position in that list. With <paramref name="requireEveryClass"/>, a missing or image-less class folder is an error.
    /// </summary>
    public static ImageFileSplit ReadSplit(string name, string splitDir, IReadOnlyList<string> classFolders, int channels,
        ImageDecodeOptions? decode = null, bool requireEveryClass = true)
    {
        var paths = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classFolders.Count; label++)
        {
            var classDir = Path.Combine(splitDir, classFolders[label]);
            if (!Directory.Exists(classDir))
            {
                if (requireEveryClass)
                    throw new UserInputException($"Image folder '{splitDir}' has no class folder '{classFolders[label]}'.");
                continue;
            }
            var files = ImageFiles(classDir);
            if (files.Count == 0 && requireEveryClass)
                throw new UserInputException(
                    $"Class folder '{classDir}' has no image files; expected at least one {string.Join("/", ImageCodec.Extensions.Order(StringComparer.Ordinal))} file.");
            paths.AddRange(files);
            labels.AddRange(Enumerable.Repeat(label, files.Count));
        }
        return new ImageFileSplit(name, paths, labels, channels, decode);
    }

    /// <summary>Non-hidden subfolders of <paramref name="dir"/>, sorted ordinally.</summary>
    public static IReadOnlyList<string> ClassFolders(string dir) =>
        Directory.EnumerateDirectories(dir)
            .Select(Path.GetFileName)
            .Where(n => !string.IsNullOrEmpty(n) && n[0] != '.')
            .Order(StringComparer.Ordinal)
            .ToArray()!;

    /// <summary>Image files under <paramref name="dir"/>, recursively, in torchvision's order.</summary>
    public static IReadOnlyList<string> ImageFiles(string dir)
    {
        var dirs = new List<string> { dir };
        var stack = new Stack<string>([dir]);
        while (stack.Count > 0)
            foreach (var sub in Directory.EnumerateDirectories(stack.Pop()))
                if (Path.GetFileName(sub)[0] != '.')
                {
                    dirs.Add(sub);
                    stack.Push(sub);
                }
        dirs.Sort(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var d in dirs)
            files.AddRange(Directory.EnumerateFiles(d)
                .Where(f => Path.GetFileName(f)[0] != '.' && ImageCodec.Extensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal));
        return files;
    }
}
