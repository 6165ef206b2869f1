using System.Buffers.Binary;
using System.IO.Compression;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Tests.Cli;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>
/// The reproduced reader faults: headers whose products overflow, counts far beyond the file, special
/// files where a file is expected, and a lazily decoded empty PNG — each a <see cref="UserInputException"/> (exit 2)
/// naming the file, without a hang or a huge allocation.
/// </summary>
public class ReaderFaultTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    static byte[] ImagesHeader(int count, int rows, int cols, int bodyBytes = 16)
    {
        var b = new byte[16 + bodyBytes];
        BinaryPrimitives.WriteInt32BigEndian(b, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(12), cols);
        return b;
    }

    static byte[] LabelsHeader(int count, int bodyBytes = 1)
    {
        var b = new byte[8 + bodyBytes];
        BinaryPrimitives.WriteInt32BigEndian(b, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), count);
        return b;
    }

    static (T Result, long Allocated) Measure<T>(Func<T> act)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = act();
        return (result, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(1 << 21, 1 << 21, 1 << 22)]        // 2^64: wraps to 0 in 64-bit arithmetic
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue)]
    [InlineData(3, 1 << 16, 1 << 16)]              // one image of 2^32 pixels: per-image size overflows an int
    [InlineData(-1, 4, 4)]
    public void AnIdxHeaderWhoseProductOverflowsIsRefused(int count, int rows, int cols)
    {
        using var dir = new TempDir();
        var path = dir.Write("images-idx3-ubyte", ImagesHeader(count, rows, cols));
        var e = Assert.Throws<UserInputException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a valid image array", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnIdxLabelCountBeyondTheFileIsRefusedBeforeAllocating(bool gzip)
    {
        using var dir = new TempDir();
        var bytes = LabelsHeader(int.MaxValue);
        if (gzip)
        {
            using var output = new MemoryStream();
            using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(bytes);
            bytes = output.ToArray();
        }
        var path = dir.Write("labels-idx1-ubyte", bytes);
        var (e, allocated) = Measure(() => Assert.Throws<UserInputException>(() => IdxReader.ReadLabels(path)));
        Assert.Contains("2147483647 labels", e.Message);
        Assert.True(allocated < 16_000_000, $"{allocated} bytes allocated for a 9-byte file");
    }

    [Fact]
    public void AnIdxDatasetWithAnOverflowingHeaderIsExitTwo()
    {
        using var dir = new TempDir();
        foreach (var split in new[] { "train", "t10k" })
        {
            dir.Write($"{split}-images-idx3-ubyte", ImagesHeader(1 << 21, 1 << 21, 1 << 22));
            dir.Write($"{split}-labels-idx1-ubyte", LabelsHeader(int.MaxValue));
        }
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--data", $"idx:{dir.Path}", "--quiet"));
        Assert.Contains("train-images-idx3-ubyte", line);
    }

    [Fact]
    public void ABmpWhosePixelOffsetIsHugeAllocatesLittle()
    {
        var bmp = TestImages.Bmp24(TestImages.Pattern(5, 3, 3));
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 0x6F000036);  // pixel data "starts" 1.8 GB in
        var (e, allocated) = Measure(() => Record.Exception(() => ImageCodec.Decode(bmp, "offset.bmp", 3)));
        Assert.True(e is null or UserInputException, e?.ToString());
        Assert.True(allocated < 16_000_000, $"{allocated} bytes allocated to decode a {bmp.Length}-byte BMP");
    }

    [Fact]
    public void AFifoWhereAnIdxFileOrImageShouldBeIsNotOpened()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDir();
        IdxReader.WriteImages(dir.Combine("t10k-images-idx3-ubyte"), new byte[16], 1, 4, 4);
        IdxReader.WriteLabels(dir.Combine("t10k-labels-idx1-ubyte"), [0]);
        IdxReader.WriteLabels(dir.Combine("train-labels-idx1-ubyte"), [0]);
        SpecialFiles.MakeFifo(dir.Combine("train-images-idx3-ubyte"));
        var open = Task.Run(() => Record.Exception(() => IdxReader.Open(dir.Path)));
        Assert.True(open.Wait(Limit), "opening an IDX folder whose image file is a FIFO hung");
        Assert.Contains("FIFO", Assert.IsType<UserInputException>(open.Result).Message);

        SpecialFiles.MakeFifo(dir.Combine("x.png"));
        var decode = Task.Run(() => Record.Exception(() => ImageCodec.Decode(dir.Combine("x.png"), 3)));
        Assert.True(decode.Wait(Limit), "decoding a FIFO named x.png hung");
        Assert.Contains("x.png", Assert.IsType<UserInputException>(decode.Result).Message);
    }

    [Fact]
    public void AnEmptyPngDecodedLazilyDuringEvalIsExitTwoNamingIt()
    {
        using var dir = new TempDir();
        var png = ImageCodec.EncodePng(TestImages.Pattern(28, 28, 1));
        foreach (var split in new[] { "train", "val" })
            foreach (var c in new[] { "a", "b" })
                dir.Write($"real/{split}/{c}/0.png", png);
        using (var writer = SyntheticSetWriter.Create(dir.Combine("run"), ["a", "b"], 1))
        {
            writer.Add(0, TestImages.Pattern(28, 28, 1));
            writer.Add(1, TestImages.Pattern(28, 28, 1, seed: 9));
            writer.Commit();
        }
        var empty = dir.Combine("run", "images", "b", "0.png");
        File.WriteAllBytes(empty, []);
        var r = EvlfProcess.Run("eval", "--synthetic", dir.Combine("run"), "--data", $"folder:{dir.Combine("real")}", "--epochs", "1", "--repeats", "1", "--quiet");
        var line = EvlfProcess.AssertUserError(r);
        Assert.Contains(empty, line);
        Assert.Contains("empty", line);
    }
}
