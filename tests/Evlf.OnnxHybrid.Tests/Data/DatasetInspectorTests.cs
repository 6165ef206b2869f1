using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class DatasetInspectorTests
{
    /// <summary>train: a = {0.png ok, 1.png truncated PNG}, b = {0.png ok, 1.jpg zero bytes, 2.png ok}; val: a, b one each.</summary>
    private static TempDir MakeFolderWithBadFiles(out string truncated, out string empty)
    {
        var dir = new TempDir();
        var png = ImageCodec.EncodePng(TestImages.Pattern(20, 30, 3));
        dir.Write("train/a/0.png", png);
        truncated = dir.Write("train/a/1.png", png[..(png.Length / 2)]);
        dir.Write("train/b/0.png", ImageCodec.EncodePng(TestImages.Pattern(10, 12, 3)));
        empty = dir.Write("train/b/1.jpg", []);
        dir.Write("train/b/2.png", png);
        dir.Write("val/a/0.png", png);
        dir.Write("val/b/0.png", png);
        return dir;
    }

    [Fact]
    public void BadFileStopsInspectionWithItsName()
    {
        using var dir = MakeFolderWithBadFiles(out var truncated, out _);
        var ds = ImageFolderReader.Open(dir.Path);
        var e = Assert.Throws<UserInputException>(() => DatasetInspector.Inspect(ds));
        Assert.Contains($"'{truncated}' is truncated", e.Message); // the lowest bad index, whatever the thread timing
        Assert.Contains(DatasetInspector.SkipBadOption, e.Message);
        Assert.EndsWith("; skip undecodable files with --skip-bad.", e.MessageNaming(Evlf.Cli.OptionFlags.Of));
    }

    [Fact]
    public void SkipBadCountsAndListsBadFiles()
    {
        using var dir = MakeFolderWithBadFiles(out var truncated, out var empty);
        var ds = ImageFolderReader.Open(dir.Path);
        var progress = new ProgressLog();
        var report = DatasetInspector.Inspect(ds, skipBad: true, progress);
        Assert.Equal(5, report.Train.Total);
        Assert.Equal(3, report.Train.Decoded);
        Assert.Equal(2, report.Skipped);
        Assert.Equal([1, 2], report.Train.PerClass);
        Assert.Equal([1, 1], report.Test.PerClass);
        Assert.Equal([truncated, empty], report.Train.Bad.Select(b => b.Source));
        Assert.Contains("empty (0 bytes)", report.Train.Bad[1].Problem);
        Assert.Equal((12, 30, 10, 20), (report.Train.MinWidth, report.Train.MaxWidth, report.Train.MinHeight, report.Train.MaxHeight));
        Assert.Contains(progress.Items, p => p.Task == "decoding train" && p.Done == 5 && p.Total == 5);
        Assert.Contains(progress.Items, p => p.Task == "decoding test" && p.Done == 2);
        progress.AssertCountsUpToTotal("decoding train", "decoding test");

        var clean = ds.WithoutBad(report);
        Assert.Equal(3, clean.Train.Count);
        Assert.Equal([0, 1, 1], clean.Train.Labels());
        var again = DatasetInspector.Inspect(clean);
        Assert.Equal(0, again.Skipped);
    }

    [Fact]
    public void InMemoryDatasetReportsPerClassCounts()
    {
        var pixels = new byte[6 * 2 * 2];
        var train = new InMemorySplit("train", pixels, [0, 1, 1, 2, 2, 2], 2, 2, 1, "mem");
        var ds = new ImageDataset("mem", ["x", "y", "z"], train, DatasetSplit.Empty("test", 1));
        var report = DatasetInspector.Inspect(ds);
        Assert.Equal([1, 2, 3], report.Train.PerClass);
        Assert.Equal(0, report.Test.Total);
        Assert.Equal(["x", "y", "z"], report.ClassNames);
    }

    [Fact]
    public void CancellationIsHonoured()
    {
        using var dir = MakeFolderWithBadFiles(out _, out _);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => DatasetInspector.Inspect(ImageFolderReader.Open(dir.Path), true, null, cts.Token));
    }
}
