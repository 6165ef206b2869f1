using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class SyntheticSetTests
{
    private static string[] Leftovers(string parent) =>
        Directory.EnumerateFileSystemEntries(parent).Select(Path.GetFileName).Where(n => n!.Contains(".evlf-")).ToArray()!;

    [Fact]
    public void WrittenSetReadsBackAsADataset()
    {
        using var dir = new TempDir();
        var root = dir.Combine("run", "synthetic");
        using (var w = SyntheticSetWriter.Create(root, ["T-shirt/top", "Trouser", "Bag"], channels: 1))
        {
            Assert.Equal("images/T-shirt_top/0.png", w.Add(0, TestImages.Pattern(28, 28, 1, 1)).Replace('\\', '/'));
            w.Add(2, TestImages.Pattern(28, 28, 3, 2)); // converted to gray
            w.Add(0, TestImages.Pattern(28, 28, 1, 3));
            Assert.False(Directory.Exists(root));
            w.Commit(new JsonObject { ["method"] = "random", ["seeds"] = new JsonArray(0, 1) });
        }
        Assert.True(File.Exists(Path.Combine(root, "images", "T-shirt_top", "1.png")));
        Assert.True(Directory.Exists(Path.Combine(root, "images", "Trouser")));
        Assert.Empty(Leftovers(dir.Combine("run")));

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "manifest.json")))!;
        Assert.Equal("random", (string?)manifest["method"]);
        Assert.Equal(3, (int)manifest["imageSet"]!["images"]!);
        Assert.Equal("T-shirt_top", (string?)manifest["imageSet"]!["classes"]![0]!["folder"]);

        var ds = SyntheticSetReader.Open(root);
        Assert.Equal(["T-shirt/top", "Trouser", "Bag"], ds.ClassNames);
        Assert.Equal([0, 0, 2], ds.Train.Labels());
        Assert.Equal(0, ds.Test.Count);
        Assert.Equal(TestImages.Pattern(28, 28, 1, 3).Pixels, ds.Train.Load(1).Pixels);
        Assert.Equal(TestImages.Pattern(28, 28, 3, 2).WithChannels(1).Pixels, ds.Train.Load(2).Pixels);
    }

    [Fact]
    public void NumericOrderIsKeptPastNineImages()
    {
        using var dir = new TempDir();
        var root = dir.Combine("s");
        using (var w = SyntheticSetWriter.Create(root, ["a"], 1))
        {
            for (int i = 0; i < 12; i++) w.Add(0, TestImages.Constant(2, 2, 1, (byte)i));
            w.Commit();
        }
        var ds = SyntheticSetReader.Open(root);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (byte)i), Enumerable.Range(0, 12).Select(i => ds.Train.Load(i).Pixels[0]));
    }

    [Fact]
    public void FailureMidWriteLeavesTheExistingSetUntouchedAndNoTemp()
    {
        using var dir = new TempDir();
        var root = dir.Combine("out");
        using (var w = SyntheticSetWriter.Create(root, ["a", "b"], 3))
        {
            w.Add(0, TestImages.Pattern(5, 5, 3, 1));
            w.Commit(new JsonObject { ["run"] = "first" });
        }
        var before = File.ReadAllText(Path.Combine(root, "manifest.json"));

        void FailingRun()
        {
            using var w = SyntheticSetWriter.Create(root, ["a", "b"], 3);
            w.Add(0, TestImages.Pattern(5, 5, 3, 2));
            w.Add(1, TestImages.Pattern(5, 5, 3, 3));
            Assert.True(Directory.Exists(w.TempRoot));
            throw new InvalidOperationException("generation failed"); // e.g. the sampler crashed
        }
        var ex = Assert.Throws<InvalidOperationException>(FailingRun);
        Assert.Equal("generation failed", ex.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(root, "manifest.json")));
        Assert.False(File.Exists(Path.Combine(root, "images", "b", "0.png")));
        Assert.Empty(Leftovers(dir.Path));
    }

    [Fact]
    public void KilledRunLeavesTargetUntouchedAndTheNextWriterCleansUp()
    {
        using var dir = new TempDir();
        var root = dir.Combine("out");
        // A writer that is never committed nor disposed: what a killed process leaves behind.
        var abandoned = SyntheticSetWriter.Create(root, ["a"], 1);
        abandoned.Add(0, TestImages.Pattern(3, 3, 1));
        Assert.False(Directory.Exists(root));
        Assert.Single(Leftovers(dir.Path));

        using (var w = SyntheticSetWriter.Create(root, ["a"], 1))
        {
            Assert.False(Directory.Exists(abandoned.TempRoot));
            w.Add(0, TestImages.Pattern(3, 3, 1));
            w.Commit();
        }
        Assert.Single(SyntheticSetReader.Open(root).Train.Labels());
        Assert.Empty(Leftovers(dir.Path));
    }

    [Fact]
    public void ExistingSetIsReplacedOnlyAtCommit()
    {
        using var dir = new TempDir();
        var root = dir.Combine("out");
        using (var w = SyntheticSetWriter.Create(root, ["old"], 1))
        {
            w.Add(0, TestImages.Pattern(3, 3, 1));
            w.Commit();
        }
        using (var w = SyntheticSetWriter.Create(root, ["new1", "new2"], 1))
        {
            w.Add(1, TestImages.Pattern(3, 3, 1));
            Assert.Equal(["old"], SyntheticSetReader.Open(root).ClassNames); // still the old, complete set
            w.Commit();
        }
        Assert.Equal(["new1", "new2"], SyntheticSetReader.Open(root).ClassNames);
        Assert.False(Directory.Exists(Path.Combine(root, "images", "old")));
        Assert.Empty(Leftovers(dir.Path));
    }

    [Fact]
    public void SetMovedAsideBeforeACrashIsRestored()
    {
        // Killed between "old set steps aside" and "new set steps in": only .out.<id>.evlf-old exists.
        using var dir = new TempDir();
        var root = dir.Combine("out");
        using (var w = SyntheticSetWriter.Create(root, ["kept"], 1))
        {
            w.Add(0, TestImages.Pattern(3, 3, 1));
            w.Commit();
        }
        Directory.Move(root, dir.Combine(".out.0123456789ab.evlf-old"));
        using (SyntheticSetWriter.Create(root, ["x"], 1)) { }
        Assert.Equal(["kept"], SyntheticSetReader.Open(root).ClassNames);
        Assert.Empty(Leftovers(dir.Path));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData(" . . ")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("bad\u0001name")]
    public void UnusableClassNamesAreRefusedBeforeAnythingIsWritten(string name)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<UserInputException>(() => SyntheticSetWriter.Create(dir.Combine("out"), ["ok", name], 1));
        Assert.Contains("Class name #1", e.Message);
        Assert.False(e.Message.Contains('\u0001'), "control characters are escaped in the message");
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Theory]
    [InlineData("T-shirt/top", "T-shirt_top")]
    [InlineData("../../etc", "_.._.._etc")]
    [InlineData("a\\b:c*d?e\"f<g>h|i", "a_b_c_d_e_f_g_h_i")]
    [InlineData(".hidden", "_.hidden")]
    [InlineData("trailing. ", "trailing")]
    [InlineData("  lead", "lead")]
    [InlineData("CON", "CON_")]
    [InlineData("nul.txt", "nul_.txt")]
    [InlineData("tench, Tinca tinca", "tench, Tinca tinca")]
    [InlineData("Ankle boot", "Ankle boot")]
    public void SanitiseKeepsNamesReadableAndInside(string name, string expected)
    {
        var folder = ClassFolderNames.Sanitize(name);
        Assert.Equal(expected, folder);
        Assert.DoesNotContain('/', folder);
        Assert.DoesNotContain('\\', folder);
        Assert.True(ClassFolderNames.IsSafe(folder));
    }

    [Fact]
    public void DotDotPrefixedNamesStayInsideTheRoot()
    {
        // "../../etc" must not escape: its folder is a child of images/.
        using var dir = new TempDir();
        var root = dir.Combine("out");
        using var w = SyntheticSetWriter.Create(root, ["../../etc"], 1);
        var rel = w.Add(0, TestImages.Pattern(2, 2, 1));
        var full = Path.GetFullPath(Path.Combine(w.TempRoot, rel));
        Assert.StartsWith(Path.Combine(w.TempRoot, "images") + Path.DirectorySeparatorChar, full);
    }

    [Fact]
    public void CollidingNamesGetDistinctDeterministicFolders()
    {
        string[] names = ["a/b", "a_b", "A_B", "a_b~1", "x", new string('y', 150)];
        var folders = ClassFolderNames.Assign(names);
        Assert.Equal(["a_b", "a_b~1", "A_B~2", "a_b~1~3", "x", new string('y', ClassFolderNames.MaxLength)], folders);
        Assert.Equal(folders, ClassFolderNames.Assign(names));
        Assert.Equal(folders.Count, folders.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void ReaderRejectsBrokenManifests()
    {
        using var dir = new TempDir();
        var root = dir.Combine("s");
        using (var w = SyntheticSetWriter.Create(root, ["a"], 1))
        {
            w.Add(0, TestImages.Pattern(2, 2, 1));
            w.Add(0, TestImages.Pattern(2, 2, 1));
            w.Commit();
        }
        File.Delete(Path.Combine(root, "images", "a", "1.png"));
        Assert.Contains("1.png', which its manifest lists", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(root)).Message);

        File.WriteAllText(Path.Combine(root, "manifest.json"), "{ not json");
        Assert.Contains("is not valid JSON", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(root)).Message);

        File.WriteAllText(Path.Combine(root, "manifest.json"), JsonSerializer.Serialize(new
        {
            imageSet = new { format = SyntheticSetWriter.Format, channels = 1, classes = new[] { new { label = 0, name = "a", folder = "..", count = 1 } } },
        }));
        Assert.Contains("not a safe folder name", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(root)).Message);

        File.WriteAllText(Path.Combine(root, "manifest.json"), """{"imageSet": {"format": "evlf-image-set/1"}}""");
        Assert.Contains("missing or mistyped imageSet field", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(root)).Message);

        Assert.Contains("has no manifest.json", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(dir.Path)).Message);
    }

    [Fact]
    public void OutputPathThatIsAFileIsAUserError()
    {
        using var dir = new TempDir();
        var file = dir.Write("taken", [1]);
        Assert.Contains("is a file", Assert.Throws<UserInputException>(() => SyntheticSetWriter.Create(file, ["a"], 1)).Message);
    }
}
