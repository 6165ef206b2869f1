using Evlf.OnnxHybrid.Data;
using SkiaSharp;

namespace Evlf.OnnxHybrid.Tests.Data;

public class ImageCodecTests
{
    [Fact]
    public void SkiaSharpNativeLibraryLoads()
    {
        // Throws DllNotFoundException / TypeInitializationException when the native asset is missing.
        Assert.True(SkiaSharpVersion.Native.Major > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PngRoundTripIsLossless(int channels)
    {
        var img = TestImages.Pattern(17, 23, channels);
        var back = ImageCodec.Decode(ImageCodec.EncodePng(img), "mem.png", channels);
        Assert.Equal((17, 23, channels), (back.Height, back.Width, back.Channels));
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void GrayPngIsStoredAsGrayAndExpandsToRgb()
    {
        var gray = TestImages.Pattern(5, 6, 1);
        var png = ImageCodec.EncodePng(gray);
        using (var codec = SKCodec.Create(new MemoryStream(png)))
            Assert.Equal(SKColorType.Gray8, codec.Info.ColorType);
        var rgb = ImageCodec.Decode(png, "g.png", 3);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(gray[y, x, 0], rgb[y, x, c]);
    }

    [Fact]
    public void RgbToGrayUsesItu601Luma()
    {
        var img = new ByteImage(1, 4, 3, [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30]);
        var gray = ImageCodec.Decode(ImageCodec.EncodePng(img), "c.png", 1);
        // 0.299·255 = 76.2, 0.587·255 = 149.7, 0.114·255 = 29.1, 0.299·10 + 0.587·200 + 0.114·30 = 123.8
        Assert.Equal(new byte[] { 76, 150, 29, 124 }, gray.Pixels);
    }

    [Fact]
    public void BmpDecodesToTheSamePixels()
    {
        var img = TestImages.Pattern(6, 5, 3, seed: 9);  // width 5: rows need padding
        var back = ImageCodec.Decode(TestImages.Bmp24(img), "x.bmp", 3);
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void JpegAndWebpDecodeCloseToTheSource()
    {
        var img = TestImages.Constant(16, 16, 3, 0);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                img[y, x, 0] = (byte)(x * 16);
                img[y, x, 1] = (byte)(y * 16);
                img[y, x, 2] = 128;
            }
        var jpeg = ImageCodec.Decode(ImageCodec.EncodeJpeg(img, 95), "x.jpg", 3);
        Assert.True(MeanAbsDiff(img, jpeg) < 3, $"JPEG mean error {MeanAbsDiff(img, jpeg)}");

        var bitmap = new SKBitmap(new SKImageInfo(16, 16, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++) bitmap.SetPixel(x, y, new SKColor(img[y, x, 0], img[y, x, 1], img[y, x, 2]));
        using var webp = SKImage.FromBitmap(bitmap).Encode(SKEncodedImageFormat.Webp, 100);
        var decoded = ImageCodec.Decode(webp.ToArray(), "x.webp", 3);
        Assert.True(MeanAbsDiff(img, decoded) < 3, $"WebP mean error {MeanAbsDiff(img, decoded)}");
    }

    [Fact]
    public void TruncatedPngIsAUserErrorNamingTheFile()
    {
        using var dir = new TempDir();
        var png = ImageCodec.EncodePng(TestImages.Pattern(64, 64, 3));
        var path = dir.Write("bad/truncated.png", png[..(png.Length * 2 / 3)]);
        var e = Assert.Throws<UserInputException>(() => ImageCodec.Decode(path, 3));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void PngCutInsideItsHeaderIsAUserError()
    {
        var png = ImageCodec.EncodePng(TestImages.Pattern(8, 8, 3));
        var e = Assert.Throws<UserInputException>(() => ImageCodec.Decode(png[..20], "head.png", 3));
        Assert.Contains("'head.png'", e.Message);
    }

    [Fact]
    public void ZeroByteJpegIsAUserErrorNamingTheFile()
    {
        using var dir = new TempDir();
        var path = dir.Write("empty.jpg", []);
        var e = Assert.Throws<UserInputException>(() => ImageCodec.Decode(path, 3));
        Assert.Contains(path, e.Message);
        Assert.Contains("empty (0 bytes)", e.Message);
        Assert.Throws<UserInputException>(() => ImageCodec.ReadHeader(path));
    }

    [Fact]
    public void GarbageIsAUserError()
    {
        var e = Assert.Throws<UserInputException>(() => ImageCodec.Decode("not an image at all"u8.ToArray(), "notes.png", 3));
        Assert.Contains("'notes.png' is not a readable", e.Message);
    }

    [Fact]
    public void MissingFileIsAUserError()
    {
        var e = Assert.Throws<UserInputException>(() => ImageCodec.Decode("/nonexistent/evlf/x.png", 3));
        Assert.Contains("'/nonexistent/evlf/x.png' does not exist", e.Message);
    }

    [Fact]
    public void DecompressionBombIsRefusedFromItsHeader()
    {
        var bomb = TestImages.PngHeaderClaiming(60000, 60000);
        Assert.True(bomb.Length < 100);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<UserInputException>(() => ImageCodec.Decode(bomb, "bomb.png", 3));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("60000x60000 = 3600000000 pixels", e.Message);
        Assert.Contains("'bomb.png'", e.Message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes before refusing");
    }

    [Fact]
    public void PixelLimitIsConfigurable()
    {
        var png = ImageCodec.EncodePng(TestImages.Pattern(40, 50, 3));
        Assert.Throws<UserInputException>(() => ImageCodec.Decode(png, "x.png", 3, new ImageDecodeOptions(MaxPixels: 1999)));
        Assert.Equal(50, ImageCodec.Decode(png, "x.png", 3, new ImageDecodeOptions(MaxPixels: 2000)).Width);
    }

    [Fact]
    public void ReadHeaderGivesSizeWithoutDecoding()
    {
        using var dir = new TempDir();
        var path = dir.Write("a.png", ImageCodec.EncodePng(TestImages.Pattern(12, 34, 3)));
        Assert.Equal((34, 12, "PNG"), ImageCodec.ReadHeader(path));
    }

    private static double MeanAbsDiff(ByteImage a, ByteImage b)
    {
        double s = 0;
        for (int i = 0; i < a.Pixels.Length; i++) s += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        return s / a.Pixels.Length;
    }
}
