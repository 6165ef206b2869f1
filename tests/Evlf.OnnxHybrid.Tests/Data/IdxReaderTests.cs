using System.IO.Compression;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class IdxReaderTests
{
    /// <summary>Writes a tiny MNIST-format folder: 7 train and 3 test images of 4×5, labels i mod 3, pixels from (i, y, x).</summary>
    private static void WriteTinyIdx(string dir, bool gzip)
    {
        foreach (var (prefix, n) in new[] { ("train", 7), ("t10k", 3) })
        {
            var pixels = new byte[n * 4 * 5];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 3 + n);
            var images = Path.Combine(dir, $"{prefix}-images-idx3-ubyte");
            var labels = Path.Combine(dir, $"{prefix}-labels-idx1-ubyte");
            IdxReader.WriteImages(images, pixels, n, 4, 5);
            IdxReader.WriteLabels(labels, Enumerable.Range(0, n).Select(i => i % 3).ToArray());
            if (gzip)
                foreach (var f in new[] { images, labels })
                {
                    using (var src = File.OpenRead(f))
                    using (var dst = new GZipStream(File.Create(f + ".gz"), CompressionLevel.Fastest))
                        src.CopyTo(dst);
                    File.Delete(f);
                }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTripsRawAndGzip(bool gzip)
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip);
        var ds = IdxReader.Open(dir.Path);
        Assert.Equal(["0", "1", "2"], ds.ClassNames);
        Assert.Equal(7, ds.Train.Count);
        Assert.Equal(3, ds.Test.Count);
        Assert.Equal(1, ds.Channels);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], ds.Train.Labels());
        var img = ds.Train.Load(2);
        Assert.Equal((4, 5, 1), (img.Height, img.Width, img.Channels));
        for (int k = 0; k < 20; k++) Assert.Equal((byte)((2 * 20 + k) * 3 + 7), img.Pixels[k]);
        Assert.Equal((byte)(1 * 3 + 3), ds.Test.Load(0).Pixels[1]);
        Assert.True(ds.Train.InMemory);
        Assert.Contains("train-images-idx3-ubyte", ds.Train.SourceOf(2));
    }

    [Fact]
    public void ClassesTxtAndChannelOptionApply()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: false);
        File.WriteAllLines(dir.Combine("classes.txt"), ["zero", "one", "two", ""]);
        var ds = IdxReader.Open(dir.Path, options: new DatasetOptions(Channels: 3));
        Assert.Equal(["zero", "one", "two"], ds.ClassNames);
        var img = ds.Train.Load(0);
        Assert.Equal(3, img.Channels);
        Assert.Equal(img.Pixels[0], img.Pixels[2]);
    }

    [Fact]
    public void WrongMagicNumberNamesTheFile()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: false);
        var images = dir.Combine("train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        bytes[3] = 0x01; // 2049: a labels magic in an images file
        File.WriteAllBytes(images, bytes);
        var e = Assert.Throws<UserInputException>(() => IdxReader.Open(dir.Path));
        Assert.Contains($"'{images}'", e.Message);
        Assert.Contains("magic number 2049", e.Message);
        Assert.Contains("2051", e.Message);
    }

    [Fact]
    public void ImageAndLabelCountMismatchNamesBothFiles()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: false);
        var labels = dir.Combine("t10k-labels-idx1-ubyte");
        IdxReader.WriteLabels(labels, [0, 1, 2, 0]);
        var e = Assert.Throws<UserInputException>(() => IdxReader.Open(dir.Path));
        Assert.Contains($"'{dir.Combine("t10k-images-idx3-ubyte")}'", e.Message);
        Assert.Contains($"'{labels}'", e.Message);
        Assert.Contains("3 images but 4 labels", e.Message);
    }

    [Fact]
    public void TruncatedBodyIsReported()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: false);
        var images = dir.Combine("train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<UserInputException>(() => IdxReader.Open(dir.Path));
        Assert.Contains($"'{images}' is truncated", e.Message);
        Assert.Contains("7 images of 4x5 (140 bytes) but only 130 follow", e.Message);
    }

    [Fact]
    public void ShortHeaderAndBadGzipAreReported()
    {
        using var dir = new TempDir();
        var shortFile = dir.Write("short", [0, 0, 8]);
        Assert.Contains("shorter than the 16-byte header", Assert.Throws<UserInputException>(() => IdxReader.ReadImages(shortFile)).Message);
        var badGz = dir.Write("bad.gz", [0x1F, 0x8B, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        var e = Assert.Throws<UserInputException>(() => IdxReader.ReadLabels(badGz));
        Assert.Contains($"'{badGz}'", e.Message);
    }

    [Fact]
    public void MissingFileListsWhatIsExpected()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: false);
        File.Delete(dir.Combine("t10k-labels-idx1-ubyte"));
        var e = Assert.Throws<UserInputException>(() => IdxReader.Open(dir.Path));
        Assert.Contains($"'{dir.Path}' has no t10k-labels-idx1-ubyte", e.Message);
    }

    [Fact]
    public void LabelBeyondTheClassNamesIsReported()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: false);
        var e = Assert.Throws<UserInputException>(() => IdxReader.Open(dir.Path, classNames: ["a", "b"]));
        Assert.Contains("has label 2 at index 2, but there are only 2 classes", e.Message);
        Assert.Contains("train-labels-idx1-ubyte", e.Message);
    }

    [Fact]
    public void TruncatedGzipIsReportedNotHung()
    {
        using var dir = new TempDir();
        WriteTinyIdx(dir.Path, gzip: true);
        var images = dir.Combine("train-images-idx3-ubyte.gz");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<UserInputException>(() => IdxReader.Open(dir.Path));
        Assert.Contains($"'{images}'", e.Message);
    }

    [Fact]
    public void HeaderPromisingMoreThanTheFileIsRefusedBeforeAllocating()
    {
        using var dir = new TempDir();
        var path = dir.Combine("huge-idx3-ubyte");
        IdxReader.WriteImages(path, new byte[28 * 28], 1, 28, 28);
        var bytes = File.ReadAllBytes(path);
        bytes[4] = 0x7F; bytes[5] = 0; bytes[6] = 0; bytes[7] = 1; // 0x7F000001 images of 28x28: larger than any array
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not a valid image array", Assert.Throws<UserInputException>(() => IdxReader.ReadImages(path)).Message);
        bytes[4] = 0; bytes[5] = 0x10; bytes[6] = 0; bytes[7] = 0; // 1 048 576 images: 822 MB promised, 784 bytes present
        File.WriteAllBytes(path, bytes);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<UserInputException>(() => IdxReader.ReadImages(path));
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 10_000_000);
        Assert.Contains("1048576 images of 28x28 (822083584 bytes) but only 784 follow", e.Message);
    }
}
