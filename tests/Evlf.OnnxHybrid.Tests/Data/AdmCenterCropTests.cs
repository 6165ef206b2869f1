using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class AdmCenterCropTests
{
    [Theory]
    [InlineData(700, 500, 128)]
    [InlineData(90, 60, 256)]
    [InlineData(256, 256, 256)]
    [InlineData(1030, 515, 256)]
    public void ConstantImageGivesAConstantSquare(int w, int h, int size)
    {
        var out_ = AdmCenterCrop.CenterCropArr(TestImages.Constant(h, w, 3, 77), size);
        Assert.Equal((size, size), (out_.Height, out_.Width));
        Assert.All(out_.Pixels, v => Assert.Equal(77, v));
    }

    [Fact]
    public void VerticalEdgeLandsWhereTheGeometryPutsIt()
    {
        // 700×500, S = 128: 500 ≥ 256 → box to 350×250 (edge at x = 350 → 175, exactly between pixels);
        // 250 < 256 → bicubic ×128/250: width round(179.2) = 179, height 128; crop left (179−128)//2 = 25.
        // The edge maps to 175·179/350 − 25 = 64.5. Column 60 samples input [163.3, 171.1] (all dark),
        // column 69 samples [180.9, 188.7] (all bright), since the stretched kernel reaches ±3.9 input pixels.
        var img = TestImages.Constant(500, 700, 1, 0);
        for (int y = 0; y < 500; y++) for (int x = 350; x < 700; x++) img[y, x, 0] = 255;
        var out_ = AdmCenterCrop.CenterCropArr(img, 128);
        for (int y = 0; y < 128; y++)
        {
            for (int x = 0; x <= 60; x++) Assert.Equal(0, out_[y, x, 0]);
            for (int x = 69; x < 128; x++) Assert.Equal(255, out_[y, x, 0]);
            Assert.InRange(out_[y, 64, 0], 60, 195); // the edge itself is mid-grey
        }
    }

    [Fact]
    public void HorizontalEdgeUsesFlooredOffset()
    {
        // 300×301 → S = 300: no halving, scale 300/300 = 1 (301 rows stay), crop top (301−300)//2 = 0:
        // so the output's first row is input row 0. Mark row 0 bright, the rest dark.
        var img = TestImages.Constant(301, 300, 1, 0);
        for (int x = 0; x < 300; x++) img[0, x, 0] = 200;
        var out_ = AdmCenterCrop.CenterCropArr(img, 300);
        Assert.Equal(200, out_[0, 150, 0]);
        Assert.Equal(0, out_[1, 150, 0]);
    }
}
