using System.Text.Json;
using System.Text.Json.Nodes;

namespace Evlf.OnnxHybrid;

/// <summary>
/// Writes a file so that readers see the old content or the new, never a part, and a killed process leaves no
/// half-written target: a hidden temporary file in the same folder, flushed, then renamed over the target (a rename
/// is atomic within one volume).
/// </summary>
public static class AtomicFile
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Lets <paramref name="write"/> fill a temporary file (it is given the temporary path), then renames it to <paramref name="path"/>.</summary>
    public static void WriteVia(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Lets <paramref name="write"/> fill a stream, flushes it to disk, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write) => WriteVia(path, temp =>
    {
        using var stream = new FileStream(temp, FileMode.CreateNew);
        write(stream);
        stream.Flush(flushToDisk: true);
    });

    public static void Write(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    public static void Write(string path, string text) => Write(path, new System.Text.UTF8Encoding(false).GetBytes(text));

    /// <summary>Indented JSON of <paramref name="value"/>, ending with a newline.</summary>
    public static void WriteJson<T>(string path, T value, JsonSerializerOptions? options = null) =>
        Write(path, JsonSerializer.Serialize(value, options ?? Indented) + "\n");

    /// <summary>Indented JSON of <paramref name="node"/>, ending with a newline.</summary>
    public static void WriteJson(string path, JsonNode node) => Write(path, node.ToJsonString(Indented) + "\n");
}
