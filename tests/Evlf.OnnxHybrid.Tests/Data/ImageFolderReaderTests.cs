using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class ImageFolderReaderTests
{
    private static byte[] Png(int seed, int w = 6, int h = 5) => ImageCodec.EncodePng(TestImages.Pattern(h, w, 3, seed));

    /// <summary>train/{b,a,C} and val/{a,b}; "C" sorts before "a" and "b" ordinally.</summary>
    private static TempDir MakeFolder()
    {
        var dir = new TempDir();
        dir.Write("train/b/2.png", Png(1));
        dir.Write("train/b/10.png", Png(2));
        dir.Write("train/a/x.jpg", ImageCodec.EncodeJpeg(TestImages.Pattern(8, 8, 3), 90));
        dir.Write("train/a/sub/y.png", Png(3));
        dir.Write("train/a/notes.txt", "not an image"u8.ToArray());
        dir.Write("train/a/.hidden.png", Png(4));
        dir.Write("train/C/z.bmp", TestImages.Bmp24(TestImages.Pattern(3, 3, 3)));
        dir.Write("train/.cache/q.png", Png(5));
        dir.Write("val/a/v.png", Png(6));
        dir.Write("val/b/w.webp", Png(7)); // content sniffed, not the extension
        return dir;
    }

    [Fact]
    public void ClassesSortOrdinallyAndFilesFollowTorchvisionOrder()
    {
        using var dir = MakeFolder();
        var ds = ImageFolderReader.Open(dir.Path);
        Assert.Equal(["C", "a", "b"], ds.ClassNames);
        Assert.Equal(5, ds.Train.Count);
        Assert.Equal([0, 1, 1, 2, 2], ds.Train.Labels());
        var files = Enumerable.Range(0, 5).Select(i => Path.GetRelativePath(dir.Path, ds.Train.SourceOf(i)).Replace('\\', '/')).ToArray();
        Assert.Equal(["train/C/z.bmp", "train/a/x.jpg", "train/a/sub/y.png", "train/b/10.png", "train/b/2.png"], files);
        Assert.Equal(2, ds.Test.Count);
        Assert.Equal([0, 1, 1], ds.Test.CountPerClass(3));
        Assert.False(ds.Train.InMemory);
        var img = ds.Train.Load(4);
        Assert.Equal(TestImages.Pattern(5, 6, 3, 1).Pixels, img.Pixels);
    }

    [Fact]
    public void ChannelOptionConvertsOnLoad()
    {
        using var dir = MakeFolder();
        var ds = ImageFolderReader.Open(dir.Path, new DatasetOptions(Channels: 1));
        Assert.Equal(1, ds.Train.Load(0).Channels);
    }

    [Fact]
    public void ValClassUnknownToTrainIsAnError()
    {
        using var dir = MakeFolder();
        dir.Write("val/zebra/a.png", Png(1));
        var e = Assert.Throws<UserInputException>(() => ImageFolderReader.Open(dir.Path));
        Assert.Contains("has class folder 'zebra'", e.Message);
    }

    [Fact]
    public void EmptyClassAndMissingSplitsAreErrors()
    {
        using (var dir = MakeFolder())
        {
            Directory.CreateDirectory(dir.Combine("train", "empty"));
            var e = Assert.Throws<UserInputException>(() => ImageFolderReader.Open(dir.Path));
            Assert.Contains($"'{dir.Combine("train", "empty")}' has no image files", e.Message);
        }
        using (var dir = new TempDir())
        {
            dir.Write("train/a/1.png", Png(1));
            Assert.Contains("has no val/ (or test/) subfolder", Assert.Throws<UserInputException>(() => ImageFolderReader.Open(dir.Path)).Message);
        }
        Assert.Contains("does not exist", Assert.Throws<UserInputException>(() => ImageFolderReader.Open("/nonexistent/evlf-folder")).Message);
    }

    [Fact]
    public void TestFolderIsAcceptedForVal()
    {
        using var dir = new TempDir();
        dir.Write("train/a/1.png", Png(1));
        dir.Write("test/a/1.png", Png(2));
        Assert.Equal(1, ImageFolderReader.Open(dir.Path).Test.Count);
    }
}
