using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class ImageTransformsTests
{
    // 3×4 gray image with values 10·y + x, easy to read back.
    private static ByteImage Grid() => new(3, 4, 1, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);

    [Fact]
    public void CropTakesTheWindow()
    {
        Assert.Equal(new byte[] { 11, 12, 21, 22 }, ImageTransforms.Crop(Grid(), 1, 1, 2, 2).Pixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageTransforms.Crop(Grid(), 2, 0, 2, 2));
    }

    [Fact]
    public void CenterCropRoundsOffsetsLikeTorchvision()
    {
        // H 3 → 2: round(0.5) = 0 (half to even); W 4 → 1: round(1.5) = 2.
        Assert.Equal(new byte[] { 2, 12 }, ImageTransforms.CenterCrop(Grid(), 2, 1).Pixels);
        // W 4 → 3: round(0.5) = 0.
        Assert.Equal(new byte[] { 10, 11, 12 }, ImageTransforms.CenterCrop(Grid(), 1, 3).Pixels);
    }

    [Fact]
    public void CenterCropLargerThanTheImagePadsWithZeros()
    {
        var out_ = ImageTransforms.CenterCrop(Grid(), 5, 6);
        Assert.Equal((5, 6), (out_.Height, out_.Width));
        Assert.Equal(0, out_[0, 0, 0]);
        Assert.Equal(11, out_[2, 2, 0]); // shifted by the (1, 1) padding
        Assert.Equal(23, out_[3, 4, 0]);
    }

    [Fact]
    public void PadAddsConstantBorders()
    {
        var out_ = ImageTransforms.Pad(Grid(), left: 1, top: 2, right: 0, bottom: 1, value: 9);
        Assert.Equal((6, 5), (out_.Height, out_.Width));
        Assert.Equal(9, out_[0, 0, 0]);
        Assert.Equal(9, out_[2, 0, 0]);
        Assert.Equal(0, out_[2, 1, 0]);
        Assert.Equal(23, out_[4, 4, 0]);
        Assert.Equal(9, out_[5, 4, 0]);
    }

    [Fact]
    public void HorizontalFlipMirrorsRowsAndKeepsChannelOrder()
    {
        Assert.Equal(new byte[] { 3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20 }, ImageTransforms.HorizontalFlip(Grid()).Pixels);
        var rgb = new ByteImage(1, 2, 3, [1, 2, 3, 4, 5, 6]);
        Assert.Equal(new byte[] { 4, 5, 6, 1, 2, 3 }, ImageTransforms.HorizontalFlip(rgb).Pixels);
    }

    [Theory]
    [InlineData(500, 375, 256, 341, 256)] // int(256·500/375) = int(341.33)
    [InlineData(300, 400, 224, 224, 298)] // int(224·400/300) = int(298.67)
    [InlineData(64, 64, 32, 32, 32)]
    public void ResizeShorterSideTruncatesTheLongSide(int w, int h, int size, int ew, int eh)
    {
        var out_ = ImageTransforms.ResizeShorterSide(TestImages.Constant(h, w, 3, 5), size);
        Assert.Equal((eh, ew), (out_.Height, out_.Width));
    }
}
