namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Reads torchvision-style image folders: <c>DIR/train/&lt;class&gt;/…</c> and <c>DIR/val/&lt;class&gt;/…</c>
/// (or <c>test/</c>). Classes are train/'s subfolders sorted ordinally (label i = i-th name), files are found
/// recursively and sorted as torchvision does (folders by path, then names), both ordinal. Only regular .png, .jpg,
/// .jpeg, .webp and .bmp files count. Folder links are not followed, file links only when they stay inside DIR;
/// hidden entries, other files and special files (FIFOs, devices) are passed over and listed in
/// <see cref="ImageDataset.Skipped"/>. Images are decoded lazily, on each load.
/// </summary>
public static class ImageFolderReader
{
    public static ImageDataset Open(string directory, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        if (!Directory.Exists(directory)) throw new UserInputException($"Image folder '{directory}' does not exist.");
        var walk = new FolderWalk(directory);
        var trainDir = walk.SplitFolder("train")
            ?? throw new UserInputException($"Image folder '{directory}' has no train/ subfolder; expected train/<class>/<image> and val/<class>/<image>.");
        var testDir = walk.SplitFolder("val") ?? walk.SplitFolder("test")
            ?? throw new UserInputException($"Image folder '{directory}' has no val/ (or test/) subfolder; expected train/<class>/<image> and val/<class>/<image>.");

        var classes = walk.Folders(trainDir, "not in a class folder");
        if (classes.Count == 0)
            throw new UserInputException($"Image folder '{trainDir}' has no class subfolders; expected train/<class>/<image>.");
        foreach (var extra in walk.Folders(testDir, "not in a class folder").Except(classes, StringComparer.Ordinal))
            throw new UserInputException(
                $"Image folder '{testDir}' has class folder '{extra}' that '{trainDir}' lacks; expected the same class folders in both splits.");

        int channels = options.ChannelsOr(3);
        var train = ReadSplit("train", trainDir, classes, channels, options.Decode, requireEveryClass: true, walk);
        var test = ReadSplit("test", testDir, classes, channels, options.Decode, requireEveryClass: false, walk);
        return new ImageDataset($"folder ({directory})", classes, train, test, walk.Skipped);
    }

    /// <summary>
    /// A lazy split over <paramref name="splitDir"/>/&lt;folder&gt; for each of <paramref name="classFolders"/>, label =
    /// position in that list. With <paramref name="requireEveryClass"/>, a missing or image-less class folder is an error.
    /// What the walk passed over is added to <paramref name="walk"/>'s skipped entries (a fresh walk rooted at
    /// <paramref name="splitDir"/> when none is given).
    /// </summary>
    internal static ImageFileSplit ReadSplit(string name, string splitDir, IReadOnlyList<string> classFolders, int channels,
        ImageDecodeOptions? decode, bool requireEveryClass, FolderWalk walk)
    {
        var paths = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classFolders.Count; label++)
        {
            var classDir = Path.Combine(splitDir, classFolders[label]);
            if (!walk.IsRealFolder(classDir))
            {
                if (requireEveryClass)
                    throw new UserInputException(PathStatus.Of(classDir, followLinks: false).Kind == PathKind.Link
                        ? $"Class folder '{classDir}' is a link; evlf does not follow folder links in a dataset (they can loop or lead out of it), so put the class's images in a real folder."
                        : $"Image folder '{splitDir}' has no class folder '{classFolders[label]}'.");
                continue;
            }
            var files = walk.ImageFiles(classDir);
            if (files.Count == 0 && requireEveryClass)
                throw new UserInputException(
                    $"Class folder '{classDir}' has no image files; expected at least one {string.Join("/", ImageCodec.Extensions.Order(StringComparer.Ordinal))} file.");
            paths.AddRange(files);
            labels.AddRange(Enumerable.Repeat(label, files.Count));
        }
        return new ImageFileSplit(name, paths, labels, channels, decode);
    }

    /// <summary>As <see cref="ReadSplit(string, string, IReadOnlyList{string}, int, ImageDecodeOptions?, bool, FolderWalk)"/>, walking from <paramref name="splitDir"/>.</summary>
    public static ImageFileSplit ReadSplit(string name, string splitDir, IReadOnlyList<string> classFolders, int channels,
        ImageDecodeOptions? decode = null, bool requireEveryClass = true) =>
        ReadSplit(name, splitDir, classFolders, channels, decode, requireEveryClass, new FolderWalk(splitDir));

    /// <summary>Real (not linked), non-hidden subfolders of <paramref name="dir"/>, sorted ordinally.</summary>
    public static IReadOnlyList<string> ClassFolders(string dir) => new FolderWalk(dir).Folders(dir, "not in a class folder");

    /// <summary>Regular image files under <paramref name="dir"/>, recursively, in torchvision's order; links out of <paramref name="dir"/> are not taken.</summary>
    public static IReadOnlyList<string> ImageFiles(string dir) => new FolderWalk(dir).ImageFiles(dir);
}
