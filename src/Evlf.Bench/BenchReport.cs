using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;

namespace Evlf.Bench;

/// <summary>
/// bench.json: format <see cref="Format"/>, the machine and commit, then each benchmark's figures. Its place is checked
/// before the benchmarks run (they take minutes), and a file evlf did not write is never replaced.
/// </summary>
public static class BenchReport
{
    /// <summary>Value of bench.json's <c>format</c>.</summary>
    public const string Format = "evlf-bench/1";

    /// <summary>The report's name inside the output folder.</summary>
    public const string FileName = "bench.json";

    /// <summary>
    /// The path of bench.json under <see cref="BenchOptions.Out"/>, once the folder is known to be usable: not a file,
    /// apart from the inputs, and not holding a bench.json that evlf did not write.
    /// </summary>
    /// <exception cref="UserInputException">One of those does not hold.</exception>
    public static string RequirePlace(BenchOptions options)
    {
        string path = Path.Combine(options.Out, FileName);
        if (File.Exists(options.Out)) throw new UserInputException($"--out '{options.Out}' is a file; expected a folder for bench.json.");
        PathsApart.Require([new("--out", options.Out)], [new("--bundle", options.Bundle), new("--data", PathsApart.DataFolder(options.Data))], inputsMayLieInside: true);
        if (File.Exists(path) && !IsBenchReport(path))
            throw new UserInputException($"'{path}' exists and was not written by evlf bench; move it away or choose another --out (evlf never replaces what it did not write).");
        return path;
    }

    /// <summary>A report's opening fields: format, machine, commit and mode.</summary>
    public static JsonObject Start(int threads, bool quick) => new()
    {
        ["format"] = Format,
        ["machine"] = new JsonObject { ["cores"] = Environment.ProcessorCount, ["torch_threads"] = threads, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
        ["commit"] = Provenance.LibraryCommit,
        ["quick"] = quick,
    };

    /// <summary>Writes <paramref name="report"/> to <paramref name="path"/> atomically, creating its folder.</summary>
    public static void Write(string path, JsonObject report)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteJson(path, report);
    }

    /// <summary>Whether the file at <paramref name="path"/> is a bench.json evlf wrote (its format, or the machine and commit of earlier reports).</summary>
    public static bool IsBenchReport(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o
                && (o["format"] is JsonValue f && f.TryGetValue<string>(out var v) && v == Format || o["machine"] is JsonObject && o.ContainsKey("commit"));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
