using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// A distillation run folder. Each stage's output lives in <c>OUT/.stages/&lt;stage&gt;-&lt;key&gt;/</c>, where the key
/// hashes everything the stage depends on (options, upstream keys, model and data hashes). A stage is
/// produced into a temporary folder and renamed when complete, so a killed run loses only the stage in
/// progress, and a re-run with the same inputs skips every finished stage.
/// </summary>
public sealed class RunFolder
{
    public const string StagesFolder = ".stages";

    /// <summary>Part of every stage key: bump it when a stage's code changes what it produces for the same inputs.</summary>
    public const int PipelineVersion = 2;

    readonly string root;
    readonly string stages;
    readonly List<StageRecord> records = new();

    public sealed record StageRecord(string Stage, string Key, bool Cached, double Seconds);

    /// <param name="root">The run's output folder.</param>
    /// <param name="stagesRoot">Where the stage outputs live, when not <c>root/.stages</c>: a cache shared by runs that
    /// differ only downstream (another method or IPC reuses the latents and the fusion module).</param>
    public RunFolder(string root, string? stagesRoot = null)
    {
        this.root = Path.GetFullPath(root);
        stages = Path.GetFullPath(stagesRoot ?? Path.Combine(this.root, StagesFolder));
        Directory.CreateDirectory(stages);
    }

    public string Root => root;
    public string StagesRoot => stages;
    public IReadOnlyList<StageRecord> Records => records;

    /// <summary>A short, stable hash of any JSON-serialisable description of a stage's inputs.</summary>
    public static string Key(object inputs)
    {
        var json = PipelineVersion + ":" + JsonSerializer.Serialize(inputs, new JsonSerializerOptions { WriteIndented = false });
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16].ToLowerInvariant();
    }

    public static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>Returns the stage's folder, producing it first with <paramref name="produce"/> (given a temporary folder) unless it exists.</summary>
    public string Stage(string stage, string key, Action<string> produce)
    {
        string dir = Path.Combine(stages, $"{stage}-{key}");
        if (File.Exists(Path.Combine(dir, ".done")))
        {
            records.Add(new StageRecord(stage, key, true, 0));
            return dir;
        }
        var clock = Stopwatch.StartNew();
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        produce(tmp);
        File.WriteAllText(Path.Combine(tmp, ".done"), DateTime.UtcNow.ToString("O"));
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(tmp, dir);
        records.Add(new StageRecord(stage, key, false, Math.Round(clock.Elapsed.TotalSeconds, 2)));
        return dir;
    }

    /// <summary>
    /// A folder for a stage's work in progress that survives a killed run (checkpoints of training stages);
    /// it is keyed like the stage, so changed inputs never resume from stale checkpoints.
    /// </summary>
    public string WorkFolder(string stage, string key)
    {
        string dir = Path.Combine(stages, $"{stage}-{key}.work");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
