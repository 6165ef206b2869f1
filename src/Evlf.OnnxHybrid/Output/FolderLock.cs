using Microsoft.Extensions.Logging;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Evlf.OnnxHybrid.Output;

/// <summary>
/// An exclusive lock on a path, held by this process until disposed: an advisory lock on a lock file (on Unix .NET takes
/// flock(LOCK_EX) for <see cref="FileShare.None"/>), which the kernel drops when the holder dies, so a killed run never leaves
/// a stale lock. Beside the lock file a small JSON file says who holds it (process id, command, start time), because the
/// locked file itself cannot be read by another process.
/// </summary>
public sealed class FolderLock : IDisposable
{
    /// <summary>The lock file evlf keeps in a folder it writes (<see cref="OutputFolder"/>).</summary>
    public const string FolderLockFile = ".evlf-lock";

    const string HolderSuffix = ".holder.json";
    readonly FileStream stream;

    FolderLock(string path, FileStream stream)
    {
        Path = path;
        this.stream = stream;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Takes the lock at <paramref name="lockPath"/> if no process holds it; null when one does.</summary>
    public static FolderLock? TryAcquire(string lockPath, string holder)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            return null;
        }
        var taken = new FolderLock(lockPath, stream);
        AtomicFile.WriteJson(lockPath + HolderSuffix, new JsonObject
        {
            ["pid"] = Environment.ProcessId,
            ["holder"] = holder,
            ["since"] = DateTime.UtcNow.ToString("O"),
        });
        return taken;
    }

    /// <summary>
    /// Takes the lock of <paramref name="folder"/>'s run, or throws a <see cref="UserInputException"/> naming the process
    /// that holds it: two evlf processes writing one folder would each replace the other's work.
    /// </summary>
    public static FolderLock AcquireFolder(string folder, string holder, string option = "output folder") =>
        TryAcquire(System.IO.Path.Combine(folder, FolderLockFile), holder)
        ?? throw UserInputException.ForOptions($"Output folder '{folder}' is in use by {Holder(System.IO.Path.Combine(folder, FolderLockFile))}; wait for it to finish or choose another {option}.", [option]);

    /// <summary>
    /// Takes the lock at <paramref name="lockPath"/>, waiting while another process holds it (it is producing the same
    /// thing; <paramref name="logger"/> is told once, as Information). Cancellable.
    /// </summary>
    public static FolderLock Wait(string lockPath, string holder, ILogger? logger, CancellationToken cancellationToken)
    {
        bool told = false;
        while (true)
        {
            if (TryAcquire(lockPath, holder) is { } taken) return taken;
            if (!told)
            {
                logger?.LogInformation("{Lock}: waiting for {Holder} to finish", System.IO.Path.GetFileName(lockPath), Holder(lockPath));
                told = true;
            }
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(250));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Who holds the lock at <paramref name="lockPath"/>, as a phrase ("process 1234 (evlf distill, since …)").</summary>
    public static string Holder(string lockPath)
    {
        try
        {
            var info = JsonNode.Parse(File.ReadAllText(lockPath + HolderSuffix))!.AsObject();
            return $"process {info["pid"]} ({info["holder"]}, since {info["since"]})";
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NullReferenceException or InvalidOperationException)
        {
            return "another process";
        }
    }

    /// <summary>Releases the lock (the lock file stays; it is evlf's own).</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(Path + HolderSuffix);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        stream.Dispose();
    }
}
