namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// A text file of class names, one per line (IDX classes.txt, CIFAR batches.meta.txt and fine_label_names.txt):
/// lines are trimmed and blank ones dropped. Special files are not opened and oversized ones not read.
/// </summary>
public static class ClassNameFile
{
    /// <summary>Largest file read: 100 000 long names fit many times over.</summary>
    public const long MaxBytes = 16L * 1024 * 1024;

    /// <summary>The names in <paramref name="path"/>, or null when there is no such file.</summary>
    public static string[]? ReadIfPresent(string path)
    {
        var status = PathStatus.Of(path);
        if (status.Kind == PathKind.Missing) return null;
        PathStatus.RequireFile(path, "Class-name file");
        if (status.Size > MaxBytes)
            throw new UserInputException($"Class-name file '{path}' is {status.Size} bytes, more than the {MaxBytes} a list of class names may have.");
        try
        {
            return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"Class-name file '{path}' could not be read: {e.Message}", e);
        }
    }
}
