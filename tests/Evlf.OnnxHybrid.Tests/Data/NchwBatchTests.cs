using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class NchwBatchTests
{
    [Fact]
    public void MinusOneToOneMapsEndsAndMiddle()
    {
        var n = Normalization.MinusOneToOne;
        Assert.Equal(-1f, n.Apply(0, 0));
        Assert.Equal(1f, n.Apply(255, 0));
        Assert.Equal(128f / 127.5f - 1f, n.Apply(128, 2));
        Assert.True(n.Apply(127, 0) < 0 && n.Apply(128, 0) > 0);
    }

    [Fact]
    public void MeanStdFollowsToTensorThenNormalize()
    {
        // Fashion-MNIST statistics (DESIGN §7): (0/255 − 0.2861)/0.3530 and (255/255 − 0.2861)/0.3530.
        var n = Normalization.MeanStd([0.2861f], [0.3530f]);
        Assert.Equal(-0.81048159, n.Apply(0, 0), 5);
        Assert.Equal(2.02237960, n.Apply(255, 0), 5);
        var rgb = Normalization.MeanStd([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
        Assert.Equal((100f / 255f - 0.456f) / 0.224f, rgb.Apply(100, 1));
        Assert.Throws<ArgumentException>(() => Normalization.MeanStd([0.5f, 0.5f], [0.5f]));
    }

    [Fact]
    public void BatchIsChannelsFirst()
    {
        var a = new ByteImage(2, 3, 3);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                for (int c = 0; c < 3; c++) a[y, x, c] = (byte)(100 * c + 10 * y + x);
        var b = TestImages.Constant(2, 3, 3, 255);
        var batch = NchwBatch.FromImages([a, b], Normalization.UnitInterval);
        Assert.Equal(new long[] { 2, 3, 2, 3 }, batch.Shape);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 3; x++)
                {
                    Assert.Equal((100 * c + 10 * y + x) / 255f, batch.Data[(c * 2 + y) * 3 + x]);
                    Assert.Equal(1f, batch.Data[((3 + c) * 2 + y) * 3 + x]);
                }
    }

    [Fact]
    public void MismatchedSizesAndChannelsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => NchwBatch.FromImages([new ByteImage(2, 2, 1), new ByteImage(2, 3, 1)], Normalization.UnitInterval));
        var rgbNorm = Normalization.MeanStd([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]);
        Assert.Throws<ArgumentException>(() => NchwBatch.FromImages([new ByteImage(2, 2, 1)], rgbNorm));
    }
}
