using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Sharding;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// A distillation run folder. Each stage's output lives in <c>OUT/.stages/&lt;stage&gt;-&lt;key&gt;/</c>, where the key
/// hashes everything the stage depends on (options, upstream keys, model and data hashes). A stage is
/// produced into a temporary folder and renamed when complete, so a killed run loses only the stage in
/// progress, and a re-run with the same inputs skips every finished stage. The run folder is an
/// <see cref="OutputFolder"/> (evlf replaces only what it wrote there) locked by this run while it lives; each stage is
/// produced under a lock of its own, so runs that share a stage cache (<see cref="DistillOptions.Cache"/>) wait for each other's stages
/// instead of producing them twice.
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string StagesFolder = ".stages";

    /// <summary>Part of every stage key: bump it when a stage's code changes what it produces for the same inputs.</summary>
    public const int PipelineVersion = 2;

    // <stage>-<16 hex key>, optionally a shard's part of it (.part-I-of-N), optionally with the suffix of its temporary,
    // work or lock file.
    static readonly Regex StageEntry = new(@"^[a-z0-9-]+-[0-9a-f]{16}(\.part-\d+-of-\d+)?(\.tmp-\d+|\.work|\.lock(\.holder\.json)?)?$", RegexOptions.CultureInvariant);
    static readonly Regex StageTemp = new(@"^(?<stage>[a-z0-9-]+-[0-9a-f]{16}(\.part-\d+-of-\d+)?)\.tmp-\d+$", RegexOptions.CultureInvariant);

    readonly OutputFolder output;
    readonly string stages;
    readonly ILogger logger;
    readonly CancellationToken cancellationToken;
    readonly List<StageRecord> records = new();
    readonly ShardSpec? shards;
    /// <summary>The time of every stage this run produced so far, a stage produced inside another counted once.</summary>
    double producedSeconds;

    public sealed record StageRecord(string Stage, string Key, bool Cached, double Seconds);

    /// <param name="root">The run's output folder (<see cref="OutputFolder.Open"/> rules: new, empty, evlf's own, or <paramref name="force"/>).</param>
    /// <param name="stagesRoot">Where the stage outputs live, when not <c>root/.stages</c>: a cache shared by runs that
    /// differ only downstream (another method or IPC reuses the latents and the fusion module).</param>
    /// <param name="command">The command writing the folder, recorded in its marker and lock.</param>
    /// <param name="force">Write into a folder that holds files evlf did not write (they are left alone).</param>
    /// <param name="logger">Told when a stage waits for another process.</param>
    /// <param name="cancellationToken">Ends a wait for another process's stage.</param>
    /// <param name="shards">The run's sharding, when it is split over processes: a shard (<see cref="ShardSpec.Index"/> set)
    /// shares the run folder with the other shards instead of locking it, and never produces a whole stage
    /// (<see cref="Stage(string, string, Action{string})"/> stops it with <see cref="ShardWaitException"/>); it produces only its parts (<see cref="Part"/>).</param>
    public RunFolder(string root, string? stagesRoot = null, string command = "distill", bool force = false, ILogger? logger = null,
        CancellationToken cancellationToken = default, ShardSpec? shards = null)
    {
        this.logger = logger ?? NullLogger.Instance;
        this.cancellationToken = cancellationToken;
        this.shards = shards;
        // Messages name the folders as DistillOptions does (the CLI shows its flags).
        string forceOption = DistillOptions.OptionName(nameof(DistillOptions.Force));
        output = OutputFolder.Open(root, command, force, exclusive: shards?.IsShard != true,
            option: DistillOptions.OptionName(nameof(DistillOptions.Out)), forceOption: forceOption);
        try
        {
            if (stagesRoot is null) stages = output.Subfolder(StagesFolder);
            else
            {
                using var cache = OutputFolder.Open(stagesRoot, "stage cache", force, exclusive: false, option: DistillOptions.OptionName(nameof(DistillOptions.Cache)),
                    ownedByPattern: StageEntry.IsMatch, forceOption: forceOption);
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
    /// <summary>The run's sharding, or null when one process runs it all.</summary>
    public ShardSpec? Shards => shards;

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
        return Produce(dir, stage, key, IsDone, produce, tmp => File.WriteAllText(Path.Combine(tmp, ".done"), DateTime.UtcNow.ToString("O")),
            whenMissing: () =>
            {
                // A shard does only its parts of the sharded stages; every other stage is the finishing run's.
                if (shards?.Index is int index)
                    throw new ShardWaitException(new ShardWait(stage, shards.Count, [],
                        $"shard {index} of {shards.Count} has nothing to do before stage '{stage}', which the finishing run (the same command without a shard index) produces."));
            });
    }

    /// <summary>
    /// Returns <paramref name="dir"/> once <paramref name="isDone"/> says so: at once when it is, else under the folder's
    /// lock (another process may be producing it; wait, then look again), produced by <paramref name="produce"/> into a
    /// temporary that <paramref name="markDone"/> completes and a rename puts in place. Records the stage as
    /// <paramref name="record"/>, cached or with its time.
    /// </summary>
    string Produce(string dir, string record, string key, Func<string, bool> isDone, Action<string> produce, Action<string> markDone, Action? whenMissing = null)
    {
        if (isDone(dir))
        {
            Record(new StageRecord(record, key, true, 0));
            return dir;
        }
        whenMissing?.Invoke();
        using var folderLock = FolderLock.Wait(dir + ".lock", $"evlf, stage {record}", logger, cancellationToken);
        if (isDone(dir)) // another process finished it while this one waited
        {
            Record(new StageRecord(record, key, true, 0));
            return dir;
        }
        double producedBefore = producedSeconds;
        var clock = Stopwatch.StartNew();
        // Under the folder's lock every temporary of it is a dead process's.
        foreach (var stale in Directory.EnumerateDirectories(stages, Path.GetFileName(dir) + ".tmp-*")) Directory.Delete(stale, true);
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        Directory.CreateDirectory(tmp);
        produce(tmp);
        markDone(tmp);
        // An incomplete folder (no .done) of an older layout, or a part whose files no longer match its marker.
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.Move(tmp, dir);
        // A stage produced inside this one (the embedding network inside choose) has its own record and time.
        double seconds = clock.Elapsed.TotalSeconds;
        Record(new StageRecord(record, key, false, Math.Round(seconds - (producedSeconds - producedBefore), 2)));
        producedSeconds = producedBefore + seconds;
        return dir;
    }

    /// <summary>Adds a stage's record, once per stage and key: a stage that two others read is listed where it was first needed.</summary>
    void Record(StageRecord stage)
    {
        if (!records.Any(r => r.Stage == stage.Stage && r.Key == stage.Key)) records.Add(stage);
    }

    static bool IsDone(string dir) => File.Exists(Path.Combine(dir, ".done"));

    /// <summary>Whether the whole stage (not a part of it) is finished.</summary>
    public bool IsStageDone(string stage, string key) => IsDone(Path.Combine(stages, $"{stage}-{key}"));

    /// <summary>The folder of shard <paramref name="part"/>'s part of the stage (of <paramref name="parts"/>), finished or not.</summary>
    public string PartFolder(string stage, string key, int part, int parts) =>
        Path.Combine(stages, FormattableString.Invariant($"{stage}-{key}.part-{part}-of-{parts}"));

    /// <summary>Whether the part's folder holds a completion marker for this stage key and part whose hash matches its files.</summary>
    public bool IsPartDone(string stage, string key, int part, int parts) =>
        ShardMarker.IsValid(PartFolder(stage, key, part, parts), $"{stage}-{key}", part, parts);

    /// <summary>
    /// Returns the folder of shard <paramref name="part"/>'s part of the stage, producing it first with
    /// <paramref name="produce"/> (given a temporary folder) unless a valid one exists: as <see cref="Stage(string, string, Action{string})"/>, under a
    /// lock of its own, renamed into place when complete, with a completion marker (<see cref="ShardMarker"/>) holding the
    /// stage key, the part and the hash of its files. A part whose marker does not match its files is produced again.
    /// </summary>
    public string Part(string stage, string key, int part, int parts, Action<string> produce)
    {
        string name = $"{stage}-{key}";
        return Produce(PartFolder(stage, key, part, parts), FormattableString.Invariant($"{stage} part {part}/{parts}"), key,
            dir => ShardMarker.IsValid(dir, name, part, parts), produce, tmp => ShardMarker.Write(tmp, name, part, parts));
    }

    /// <summary>Deletes the parts of a stage once the whole stage is finished (they hold the same data again).</summary>
    public void DeleteParts(string stage, string key, int parts)
    {
        if (!IsStageDone(stage, key)) throw new InvalidOperationException($"Stage {stage}-{key} is not finished; its parts are still needed.");
        for (int part = 0; part < parts; part++)
        {
            string dir = PartFolder(stage, key, part, parts);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            OutputFolder.TryDelete(dir + ".lock");
            OutputFolder.TryDelete(dir + ".lock.holder.json");
        }
    }

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
    /// As <see cref="Stage(string, string, Action{string})"/>, for a stage whose work in progress (a training stage's
    /// checkpoints) must survive a killed run: <paramref name="produce"/> gets the temporary folder and a work folder,
    /// keyed like the stage so changed inputs never resume from stale checkpoints. The work folder is made only under the
    /// stage's lock, by the process that produces the stage, and deleted once the stage is in place (or found finished), so
    /// processes that share the stage cache (shards) never race over it.
    /// </summary>
    public string Stage(string stage, string key, Action<string, string> produce)
    {
        string work = Path.Combine(stages, $"{stage}-{key}.work");
        string dir = Stage(stage, key, tmp =>
        {
            Directory.CreateDirectory(work);
            produce(tmp, work);
        });
        // Nothing makes the work folder once the stage is finished, so any process may remove what is left of it.
        OutputFolder.TryDelete(work);
        return dir;
    }
}
