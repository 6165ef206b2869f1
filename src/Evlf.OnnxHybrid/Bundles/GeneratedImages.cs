using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>Images <see cref="BundleRuntime.Generate"/> made for one class, in memory, at the bundle's size.</summary>
/// <param name="ClassName">The class as the bundle names it.</param>
/// <param name="Folder">The class's folder name, safe on every file system (<see cref="ClassFolderNames"/>, as evlf's image sets use).</param>
/// <param name="Images">The decoded images, in generation order.</param>
public sealed record GeneratedImages(string ClassName, string Folder, IReadOnlyList<ByteImage> Images)
{
    /// <summary>
    /// Writes the images as <c>FOLDER/&lt;<see cref="Folder"/>&gt;/&lt;i&gt;.png</c> (i from 0) and returns their paths. Each file is written under a
    /// temporary name and renamed; an existing file of the same name is never replaced (a <see cref="UserInputException"/>
    /// names it before anything is written).
    /// </summary>
    public IReadOnlyList<string> Save(string folder)
    {
        if (Path.GetFileName(Folder) != Folder || Folder is "" or "." or "..")
            throw new ArgumentException($"Folder '{Folder}' must be a single folder name.", nameof(Folder));
        string classFolder = Path.Combine(folder, Folder);
        var paths = Enumerable.Range(0, Images.Count).Select(i => Path.Combine(classFolder, $"{i}.png")).ToArray();
        if (paths.FirstOrDefault(p => Path.Exists(p)) is string taken)
            throw new UserInputException($"Image '{taken}' already exists; expected a folder without {Folder}/<i>.png files (images are never replaced).");
        Directory.CreateDirectory(classFolder);
        for (int i = 0; i < paths.Length; i++)
        {
            string temp = Path.Combine(classFolder, $".{i}.png.{Guid.NewGuid():N}.tmp");
            try
            {
                ImageCodec.WritePng(temp, Images[i]);
                File.Move(temp, paths[i], overwrite: false);   // a file that appeared meanwhile stays, and this throws
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }
        return paths;
    }
}
