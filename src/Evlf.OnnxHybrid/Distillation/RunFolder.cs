using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Output;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// A distillation run folder. Each stage's output lives in <c>OUT/.stages/&lt;stage&gt;-&lt;key&gt;/</c>, where the key
/// hashes everything the stage depends on (options, upstream keys, model and data hashes). A stage is
/// produced into a temporary folder and renamed when complete, so a killed run loses only the stage in
/// progress, and a re-run with the same inputs skips every finished stage. The run folder is an
/// <see cref="OutputFolder"/> (evlf replaces only what it wrote there) locked by this run while it lives; each stage is
/// produced under a lock of its own, so runs that share a stage cache (<c>--cache</c>) wait for each other's stages
/// instead of producing them twice.
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string StagesFolder = ".stages";

    /// <summary>Part of every stage key: bump it when a stage's code changes what it produces for the same inputs.</summary>
    public const int PipelineVersion = 2;

    // <stage>-<16 hex key>, optionally with the suffix of its temporary, work or lock file.
    static readonly Regex StageEntry = new(@"^[a-z0-9-]+-[0-9a-f]{16}(\.tmp-\d+|\.work|\.lock(\.holder\.json)?)?$", RegexOptions.CultureInvariant);
    static readonly Regex StageTemp = new(@"^(?<stage>[a-z0-9-]+-[0-9a-f]{16})\.tmp-\d+$", RegexOptions.CultureInvariant);

    readonly OutputFolder output;
    readonly string stages;
    readonly ILogger logger;
    readonly CancellationToken cancellationToken;
    readonly List<StageRecord> records = new();

    public sealed record StageRecord(string Stage, string Key, bool Cached, double Seconds);

    /// <param name="root">The run's output folder (<see cref="OutputFolder.Open"/> rules: new, empty, evlf's own, or <paramref name="force"/>).</param>
    /// <param name="stagesRoot">Where the stage outputs live, when not <c>root/.stages</c>: a cache shared by runs that
    /// differ only downstream (another method or IPC reuses the latents and the fusion module).</param>
    /// <param name="command">The command writing the folder, recorded in its marker and lock.</param>
    /// <param name="force">Write into a folder that holds files evlf did not write (they are left alone).</param>
    /// <param name="logger">Told when a stage waits for another process.</param>
    /// <param name="cancellationToken">Ends a wait for another process's stage.</param>
    public RunFolder(string root, string? stagesRoot = null, string command = "distill", bool force = false, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        this.logger = logger ?? NullLogger.Instance;
        this.cancellationToken = cancellationToken;
        output = OutputFolder.Open(root, command, force);
        try
        {
            if (stagesRoot is null) stages = output.Subfolder(StagesFolder);
            else
            {
                using var cache = OutputFolder.Open(stagesRoot, "stage cache", force, exclusive: false, option: "--cache", ownedByPattern: StageEntry.IsMatch);
                stages = cache.Path;
            }
            CleanStaleTemporaries();
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    public string Root => output.Path;
    public string StagesRoot => stages;
    /// <summary>The run folder's outputs (images, manifest): replaced only through it.</summary>
    public OutputFolder Output => output;
    public IReadOnlyList<StageRecord> Records => records;

    /// <summary>Releases the run folder's lock.</summary>
    public void Dispose() => output.Dispose();

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
        if (IsDone(dir))
        {
            records.Add(new StageRecord(stage, key, true, 0));
            return dir;
        }
        using var stageLock = FolderLock.Wait(dir + ".lock", $"evlf, stage {stage}", logger, cancellationToken);
        if (IsDone(dir)) // another process finished it while this one waited
        {
            records.Add(new StageRecord(stage, key, true, 0));
            return dir;
        }
        var clock = Stopwatch.StartNew();
        // Under the stage's lock every temporary of this stage is a dead process's.
        foreach (var stale in Directory.EnumerateDirectories(stages, $"{stage}-{key}.tmp-*")) Directory.Delete(stale, true);
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        Directory.CreateDirectory(tmp);
        produce(tmp);
        File.WriteAllText(Path.Combine(tmp, ".done"), DateTime.UtcNow.ToString("O"));
        if (Directory.Exists(dir)) Directory.Delete(dir, true); // an incomplete folder (no .done) of an older layout
        Directory.Move(tmp, dir);
        records.Add(new StageRecord(stage, key, false, Math.Round(clock.Elapsed.TotalSeconds, 2)));
        return dir;
    }

    static bool IsDone(string dir) => File.Exists(Path.Combine(dir, ".done"));

    /// <summary>Deletes stage temporaries whose producer is gone: those whose stage lock no process holds.</summary>
    void CleanStaleTemporaries()
    {
        foreach (var tmp in Directory.EnumerateDirectories(stages, "*.tmp-*"))
        {
            var match = StageTemp.Match(Path.GetFileName(tmp));
            if (!match.Success) continue;
            using var stageLock = FolderLock.TryAcquire(Path.Combine(stages, match.Groups["stage"].Value + ".lock"), "evlf, cleaning up");
            if (stageLock is null) continue; // being produced right now
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        }
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
