using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Output;

namespace Evlf.OnnxHybrid.Tests.Output;

/// <summary>
/// Evlf replaces only what it wrote. A folder it did not create is refused unless forced, and even
/// forced its files survive; entries are replaced whole; a killed replacement is repaired by the next run; one run at a time.
/// </summary>
public class OutputFolderTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-output-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    string UserFolder(string name) => Evlf.OnnxHybrid.Tests.Output.UserFolder.Create(root, name);

    [Fact]
    public void ProcessesSharingAFolderSeeEachOthersEntries()
    {
        // Two shards open the new run folder at once, then each claims its stage cache and a file of its own.
        var dir = Path.Combine(root, "shared");
        using var a = OutputFolder.Open(dir, "distill", exclusive: false);
        using var b = OutputFolder.Open(dir, "distill", exclusive: false);
        a.Subfolder(".stages");
        b.Subfolder(".stages");
        a.Reserve("a.json");
        b.Reserve("b.json");
        var entries = OutputFolder.ReadMarker(dir)!["entries"]!.AsArray().Select(e => (string?)e).ToHashSet();
        Assert.Superset(new HashSet<string?> { ".stages", "a.json", "b.json" }, entries);
        // The finishing run, which locks the folder, owns all of them.
        using var finish = OutputFolder.Open(dir, "distill");
        finish.Subfolder(".stages");
        finish.Delete("a.json");
    }

    [Fact]
    public void SharingProcessesSavingAtOnceKeepEveryEntry()
    {
        // Shards claim entries at the same moment; each claim reads, extends and rewrites the marker, so without a lock
        // around that, one save can drop the entry another saved just before. (flock locks are per open file, so
        // instances in one process stand in for processes.)
        var dir = Path.Combine(root, "busy");
        Directory.CreateDirectory(dir);
        const int Shards = 6, EntriesEach = 15;
        var folders = Enumerable.Range(0, Shards).Select(_ => OutputFolder.Open(dir, "distill", exclusive: false)).ToList();
        using var go = new ManualResetEventSlim();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var shards = Enumerable.Range(0, Shards).Select(shard => new Thread(() =>
        {
            try
            {
                go.Wait();
                for (int i = 0; i < EntriesEach; i++) folders[shard].Reserve($"shard{shard}-{i}.json");
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        })).ToList();
        shards.ForEach(t => t.Start());
        go.Set();
        shards.ForEach(t => t.Join());
        folders.ForEach(f => f.Dispose());
        Assert.Empty(errors);
        var entries = OutputFolder.ReadMarker(dir)!["entries"]!.AsArray().Select(e => (string?)e).ToHashSet();
        for (int shard = 0; shard < Shards; shard++)
            for (int i = 0; i < EntriesEach; i++) Assert.Contains($"shard{shard}-{i}.json", entries);
        // The lock file is evlf's housekeeping: the folder opens again as evlf's own.
        using var finish = OutputFolder.Open(dir, "distill");
    }

    [Fact]
    public void ANewFolderIsCreatedAndMarked()
    {
        var dir = Path.Combine(root, "new", "run");
        using (var output = OutputFolder.Open(dir, "test"))
            output.ReplaceFile("manifest.json", temp => File.WriteAllText(temp, "{}"));
        var marker = OutputFolder.ReadMarker(dir)!;
        Assert.Equal(OutputFolder.MarkerFormat, (string?)marker["format"]);
        Assert.Equal(["manifest.json"], marker["entries"]!.AsArray().Select(e => (string?)e));
        Assert.True(OutputFolder.IsOwned(dir));
    }

    [Fact]
    public void ALockHoldersTemporaryFileIsNotAUserFile()
    {
        // What a shard saw while another shard wrote the holder of the folder's lock (a Slurm run of .ci/run).
        var dir = Path.Combine(root, "shared");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "..evlf-lock.marker.holder.json.009fe08e7b33"), "{}");
        using (var output = OutputFolder.Open(dir, "test", exclusive: false)) { }
        Assert.True(OutputFolder.IsOwned(dir));
        // A user's hidden file is still refused.
        var other = Path.Combine(root, "user");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, ".notes"), "mine");
        Assert.Throws<UserInputException>(() => OutputFolder.Open(other, "test"));
    }

    [Fact]
    public void AFolderHoldingUserFilesIsRefusedAndLeftAlone()
    {
        var dir = UserFolder("thesis");
        var e = Assert.Throws<UserInputException>(() => OutputFolder.Open(dir, "test"));
        Assert.Contains("thesis.tex", e.Message);
        Assert.Contains("or pass force to add", e.Message);
        Assert.Equal(["sub", "thesis.tex"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ForceAddsOutputsBesideUserFilesButNeverReplacesThem()
    {
        var dir = UserFolder("forced");
        File.WriteAllText(Path.Combine(dir, "manifest.json"), "mine");
        using (var output = OutputFolder.Open(dir, "test", force: true))
        {
            output.ReplaceDirectory("images", temp => File.WriteAllText(Path.Combine(temp, "0.png"), "a"));
            var e = Assert.Throws<UserInputException>(() => output.ReplaceFile("manifest.json", temp => File.WriteAllText(temp, "{}")));
            Assert.Contains("not written by evlf", e.Message);
            Assert.Throws<UserInputException>(() => output.Delete("thesis.tex"));
        }
        Assert.Equal("x", File.ReadAllText(Path.Combine(dir, "thesis.tex")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "manifest.json")));
        Assert.True(Directory.Exists(Path.Combine(dir, "sub")));
        Assert.True(File.Exists(Path.Combine(dir, "images", "0.png")));

        // Once marked, the next run needs no --force and may replace its own entries.
        using var again = OutputFolder.Open(dir, "test");
        again.ReplaceDirectory("images", temp => File.WriteAllText(Path.Combine(temp, "1.png"), "b"));
        Assert.Equal(["1.png"], Directory.GetFiles(Path.Combine(dir, "images")).Select(Path.GetFileName));
        Assert.Equal("x", File.ReadAllText(Path.Combine(dir, "thesis.tex")));
    }

    [Fact]
    public void AFileOrAFileSystemRootIsNoOutputFolder()
    {
        var file = Path.Combine(root, "a.txt");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file", Assert.Throws<UserInputException>(() => OutputFolder.Open(file, "test")).Message);
        Assert.Contains("root", Assert.Throws<UserInputException>(() => OutputFolder.Open("/", "test")).Message);
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void AFolderThatCannotBeCreatedIsOneClearError()
    {
        var blocked = Path.Combine(root, "blocker");
        File.WriteAllText(blocked, "x");
        var e = Assert.Throws<UserInputException>(() => OutputFolder.Open(Path.Combine(blocked, "run"), "test"));
        Assert.Contains("cannot be created", e.Message);
    }

    [Fact]
    public void AnEvlfImageSetWrittenBeforeMarkersIsAdoptedWithItsOwnEntriesOnly()
    {
        var dir = Path.Combine(root, "legacy");
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        File.WriteAllText(Path.Combine(dir, "manifest.json"), new JsonObject { ["imageSet"] = new JsonObject { ["format"] = Evlf.OnnxHybrid.Data.SyntheticSetWriter.Format } }.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "keep");
        using var output = OutputFolder.Open(dir, "test");
        Assert.Equal(["images", "manifest.json"], output.Entries);
        Assert.Throws<UserInputException>(() => output.Delete("notes.txt"));
    }

    [Fact]
    public void ASecondRunOnTheSameFolderIsRefusedNamingTheHolder()
    {
        var dir = Path.Combine(root, "locked");
        using (OutputFolder.Open(dir, "first"))
        {
            var e = Assert.Throws<UserInputException>(() => OutputFolder.Open(dir, "second"));
            Assert.Contains($"process {Environment.ProcessId}", e.Message);
            Assert.Contains("evlf first", e.Message);
        }
        using var after = OutputFolder.Open(dir, "third"); // released on dispose
    }

    [Fact]
    public void AReplacementKilledBetweenItsRenamesIsRepairedAndTemporariesRemoved()
    {
        var dir = Path.Combine(root, "killed");
        using (var output = OutputFolder.Open(dir, "test"))
            output.ReplaceDirectory("images", temp => File.WriteAllText(Path.Combine(temp, "old.png"), "old"));
        // What a process killed after setting the old entry aside, and one killed while writing, leave behind.
        Directory.Move(Path.Combine(dir, "images"), Path.Combine(dir, ".images.0123456789ab.evlf-old"));
        Directory.CreateDirectory(Path.Combine(dir, ".images.ba9876543210.evlf-tmp"));
        using (OutputFolder.Open(dir, "test")) { }
        Assert.Equal("old", File.ReadAllText(Path.Combine(dir, "images", "old.png")));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir), p => p.EndsWith(".evlf-tmp") || p.EndsWith(".evlf-old"));
    }

    [Fact]
    public void ReplacingAnEntryThatBecameALinkRemovesTheLinkNotItsTarget()
    {
        var target = UserFolder("target");
        var dir = Path.Combine(root, "linked");
        using (var output = OutputFolder.Open(dir, "test"))
            output.ReplaceDirectory("images", temp => { });
        Directory.Delete(Path.Combine(dir, "images"));
        Directory.CreateSymbolicLink(Path.Combine(dir, "images"), target);
        using (var output = OutputFolder.Open(dir, "test"))
            output.ReplaceDirectory("images", temp => File.WriteAllText(Path.Combine(temp, "0.png"), "a"));
        Assert.Equal("x", File.ReadAllText(Path.Combine(target, "thesis.tex")));
        Assert.True(Directory.Exists(Path.Combine(target, "sub")));
    }
}
