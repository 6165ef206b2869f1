namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>Writes a file so that readers see the old content or the new, never a part: a hidden temporary file in the same folder, then a rename over the target.</summary>
public static class AtomicFile
{
    public static void Write(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void Write(string path, string text) => Write(path, new System.Text.UTF8Encoding(false).GetBytes(text));
}
