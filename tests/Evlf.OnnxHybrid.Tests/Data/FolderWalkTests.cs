using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Tests.Cli;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>
/// Dataset folders are walked without following folder links (no loops, no escape), file
/// links are taken only inside the dataset, special files are never opened, and whatever is passed over is listed
/// (<see cref="ImageDataset.Skipped"/>) and reported as one warning line.
/// </summary>
public sealed class FolderWalkTests : IDisposable
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    readonly TempDir dir = new();
    readonly byte[] png = ImageCodec.EncodePng(TestImages.Pattern(4, 4, 3));

    public void Dispose() => dir.Dispose();

    /// <summary>data/{train,val}/{a,b}/{0,1}.png, and outside/ with two images beside it.</summary>
    string Dataset()
    {
        foreach (var split in new[] { "train", "val" })
            foreach (var c in new[] { "a", "b" })
                for (int i = 0; i < 2; i++) dir.Write($"data/{split}/{c}/{i}.png", png);
        dir.Write("outside/secret.png", png);
        dir.Write("outside/more/secret2.png", png);
        return dir.Combine("data");
    }

    [Fact]
    public void AFolderLinkThatLoopsIsNotFollowed()
    {
        var data = Dataset();
        Directory.CreateSymbolicLink(dir.Combine("data", "train", "a", "loop"), "..");
        var dataset = ImageFolderReader.Open(data);
        Assert.Equal([2, 2], dataset.Train.CountPerClass(2));
        Assert.Contains(dataset.Skipped, s => s.Path == Path.Combine("train", "a", "loop") && s.Reason.Contains("folder link"));
    }

    [Fact]
    public void LinksOutOfTheDatasetAreNotRead()
    {
        var data = Dataset();
        Directory.CreateSymbolicLink(dir.Combine("data", "train", "a", "ext"), dir.Combine("outside"));
        File.CreateSymbolicLink(dir.Combine("data", "train", "b", "stolen.png"), dir.Combine("outside", "secret.png"));
        Directory.CreateSymbolicLink(dir.Combine("data", "train", "c"), dir.Combine("outside"));
        File.CreateSymbolicLink(dir.Combine("data", "train", "b", "copy.png"), dir.Combine("data", "train", "a", "0.png"));

        var dataset = ImageFolderReader.Open(data);
        Assert.Equal(["a", "b"], dataset.ClassNames);
        var sources = Enumerable.Range(0, dataset.Train.Count).Select(dataset.Train.SourceOf).ToList();
        Assert.DoesNotContain(sources, s => s.Contains("secret") || s.Contains("stolen") || s.Contains("ext"));
        Assert.Contains(dir.Combine("data", "train", "b", "copy.png"), sources);  // a file link inside the dataset is fine
        Assert.Contains(dataset.Skipped, s => s.Path.EndsWith("stolen.png") && s.Reason.Contains("outside the dataset"));
        Assert.Contains(dataset.Skipped, s => s.Path.EndsWith("ext") && s.Reason.Contains("folder link"));
        Assert.Contains(dataset.Skipped, s => s.Path == Path.Combine("train", "c") && s.Reason.Contains("folder link"));
    }

    [Fact]
    public void ASplitFolderLinkOutOfTheDatasetIsRefused()
    {
        dir.Write("data/val/a/0.png", png);
        dir.Write("real-train/a/0.png", png);
        Directory.CreateSymbolicLink(dir.Combine("data", "train"), dir.Combine("real-train"));
        var e = Assert.Throws<UserInputException>(() => ImageFolderReader.Open(dir.Combine("data")));
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void AFifoNamedLikeAnImageIsNeverOpened()
    {
        if (!OperatingSystem.IsLinux()) return;
        var data = Dataset();
        SpecialFiles.MakeFifo(dir.Combine("data", "train", "a", "x.png"));
        var run = Task.Run(() =>
        {
            var dataset = ImageFolderReader.Open(data);
            for (int i = 0; i < dataset.Train.Count; i++) dataset.Train.Load(i);
            return dataset;
        });
        Assert.True(run.Wait(Limit), "a FIFO named x.png was opened (the reader hung)");
        Assert.Equal(4, run.Result.Train.Count);
        Assert.Contains(run.Result.Skipped, s => s.Path.EndsWith("x.png") && s.Reason.Contains("FIFO"));
    }

    [Fact]
    public void SkippedEntriesAreListedAndReportedAsOneWarning()
    {
        var data = Dataset();
        dir.Write("data/train/a/anim.gif", png);
        dir.Write("data/train/.cache/0.png", png);
        dir.Write("data/train/notes.txt", [1]);
        var dataset = ImageFolderReader.Open(data);
        Assert.Equal(["a", "b"], dataset.ClassNames);
        Assert.Contains(dataset.Skipped, s => s.Path == Path.Combine("train", "a", "anim.gif") && s.Reason.StartsWith("not a "));
        Assert.Contains(dataset.Skipped, s => s.Path == Path.Combine("train", ".cache") && s.Reason == "hidden");
        Assert.Contains(dataset.Skipped, s => s.Path == Path.Combine("train", "notes.txt") && s.Reason == "not in a class folder");

        var r = EvlfProcess.Run("inspect", "--data", $"folder:{data}", "--quiet");
        Assert.Equal(0, r.ExitCode);
        var warnings = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var warning = Assert.Single(warnings);
        Assert.StartsWith("warning: folder:", warning);
        Assert.Contains("skipped 3 entries", warning);
        Assert.Contains("anim.gif", warning);
        Assert.Contains(".cache", warning);
    }

    [Fact]
    public void ASyntheticSetWhoseImagesLeadOutOfItIsRefused()
    {
        using (var w = SyntheticSetWriter.Create(dir.Combine("run"), ["a", "b"], 3))
        {
            w.Add(0, TestImages.Pattern(4, 4, 3));
            w.Add(1, TestImages.Pattern(4, 4, 3));
            w.Commit();
        }
        dir.Write("outside/0.png", png);
        SyntheticSetReader.Open(dir.Combine("run"));

        var image = dir.Combine("run", "images", "b", "0.png");
        File.Delete(image);
        File.CreateSymbolicLink(image, dir.Combine("outside", "0.png"));
        Assert.Contains("outside", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(dir.Combine("run"))).Message);

        File.Delete(image);
        Directory.Delete(dir.Combine("run", "images", "b"));
        Directory.CreateSymbolicLink(dir.Combine("run", "images", "b"), dir.Combine("outside"));
        Assert.Contains("outside", Assert.Throws<UserInputException>(() => SyntheticSetReader.Open(dir.Combine("run"))).Message);

        if (!OperatingSystem.IsLinux()) return;
        Directory.Delete(dir.Combine("run", "images", "b"));
        Directory.CreateDirectory(dir.Combine("run", "images", "b"));
        SpecialFiles.MakeFifo(image);
        var open = Task.Run(() => Record.Exception(() => SyntheticSetReader.Open(dir.Combine("run"))));
        Assert.True(open.Wait(Limit), "a FIFO in a synthetic set hung the reader");
        Assert.Contains("not a regular file", Assert.IsType<UserInputException>(open.Result).Message);
    }

    [Fact]
    public void TheSetDigestOfEvalNeitherFollowsLinksNorOpensFifos()
    {
        using (var w = SyntheticSetWriter.Create(dir.Combine("run"), ["a"], 3))
        {
            w.Add(0, TestImages.Pattern(4, 4, 3));
            w.Commit();
        }
        var before = OnnxHybrid.Evaluation.SyntheticSetEvaluation.SetDigest(dir.Combine("run"));
        // Two links back up: a walk that follows them visits 2^40 paths.
        Directory.CreateSymbolicLink(dir.Combine("run", "images", "a", "up1"), "..");
        Directory.CreateSymbolicLink(dir.Combine("run", "images", "a", "up2"), "..");
        if (OperatingSystem.IsLinux()) SpecialFiles.MakeFifo(dir.Combine("run", "images", "a", "pipe.png"));
        var digest = Task.Run(() => OnnxHybrid.Evaluation.SyntheticSetEvaluation.SetDigest(dir.Combine("run")));
        Assert.True(digest.Wait(Limit), "the set digest followed looping links or opened a FIFO");
        Assert.Equal(before, digest.Result);
    }
}
