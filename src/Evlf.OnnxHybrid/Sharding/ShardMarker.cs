using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Evlf.OnnxHybrid.Sharding;

/// <summary>
/// The completion marker of a shard's part of a stage: <c>.done</c> in the part's folder, written last, holding the
/// stage's name and key, the part and the number of parts, how many files the part holds and a SHA-256 over them (each
/// file's relative path and bytes, in ordinal order of the paths). A part counts as finished only when its marker names
/// the same stage, part and parts and its files still hash to the marker's hash, so a part copied from another run, cut
/// short or changed after the fact is produced again.
/// </summary>
public static class ShardMarker
{
    /// <summary>The marker's file name in the part folder.</summary>
    public const string FileName = ".done";

    /// <summary>Value of the marker's <c>format</c>.</summary>
    public const string Format = "evlf-shard-part/1";

    /// <summary>Writes the marker of the files now in <paramref name="folder"/>.</summary>
    public static void Write(string folder, string stage, int part, int parts)
    {
        var (files, hash) = Hash(folder);
        var marker = new JsonObject
        {
            ["format"] = Format, ["stage"] = stage, ["part"] = part, ["parts"] = parts, ["files"] = files, ["sha256"] = hash,
            ["finished"] = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.WriteJson(Path.Combine(folder, FileName), marker);
    }

    /// <summary>Whether <paramref name="folder"/> holds a marker for <paramref name="stage"/>'s part <paramref name="part"/> of <paramref name="parts"/> that matches its files.</summary>
    public static bool IsValid(string folder, string stage, int part, int parts)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return false;
        try
        {
            var marker = JsonNode.Parse(File.ReadAllText(path))?.AsObject();
            if (marker is null || (string?)marker["format"] != Format || (string?)marker["stage"] != stage
                || (int?)marker["part"] != part || (int?)marker["parts"] != parts)
                return false;
            var (files, hash) = Hash(folder);
            return (int?)marker["files"] == files && (string?)marker["sha256"] == hash;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException)
        {
            return false;
        }
    }

    /// <summary>The number of files under <paramref name="folder"/> (the marker left out) and the SHA-256 of their paths and bytes.</summary>
    static (int Files, string Hash) Hash(string folder)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Where(f => f != FileName)
            .Order(StringComparer.Ordinal)
            .ToList();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var relative in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(relative + "\0"));
            using var stream = File.OpenRead(Path.Combine(folder, relative));
            sha.AppendData(BitConverter.GetBytes(stream.Length));
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, read);
        }
        return (files.Count, Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant());
    }
}
