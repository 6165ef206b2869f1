using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>Resampling checked against values derived by hand from the filter definitions.</summary>
public class ResamplerTests
{
    [Theory]
    [InlineData(ResampleFilter.Box, 37, 23, 18, 11)]
    [InlineData(ResampleFilter.Box, 20, 20, 7, 13)]
    [InlineData(ResampleFilter.Bilinear, 15, 9, 40, 4)]
    [InlineData(ResampleFilter.Bicubic, 50, 31, 17, 64)]
    [InlineData(ResampleFilter.Bicubic, 8, 8, 29, 3)]
    public void ConstantImageStaysConstant(ResampleFilter filter, int w, int h, int ow, int oh)
    {
        var img = TestImages.Constant(h, w, 3, 173);
        var out_ = Resampler.Resize(img, ow, oh, filter);
        Assert.Equal((oh, ow, 3), (out_.Height, out_.Width, out_.Channels));
        Assert.All(out_.Pixels, v => Assert.Equal(173, v));
    }

    [Fact]
    public void BoxHalvingAveragesTwoByTwoBlocks()
    {
        // Blocks built as m + u + v, m − u + v / m + w − v, m − w − v: row means m ± v, block mean m, all exact
        // integers, so no rounding happens in either pass and the result must be m exactly.
        var rng = new Random(5);
        int bw = 9, bh = 7;
        var img = new ByteImage(2 * bh, 2 * bw, 1);
        var expected = new byte[bh * bw];
        for (int by = 0; by < bh; by++)
            for (int bx = 0; bx < bw; bx++)
            {
                int m = rng.Next(60, 196), u = rng.Next(0, 30), v = rng.Next(0, 30), w = rng.Next(0, 30);
                img[2 * by, 2 * bx, 0] = (byte)(m + u + v);
                img[2 * by, 2 * bx + 1, 0] = (byte)(m - u + v);
                img[2 * by + 1, 2 * bx, 0] = (byte)(m + w - v);
                img[2 * by + 1, 2 * bx + 1, 0] = (byte)(m - w - v);
                expected[by * bw + bx] = (byte)m;
            }
        var half = Resampler.Resize(img, bw, bh, ResampleFilter.Box);
        Assert.Equal(expected, half.Pixels);
    }

    [Fact]
    public void BoxHalvingRoundsHalvesUp()
    {
        // Pairs (1,2) → 1.5 → 2 in the horizontal pass; then rows (2,2) → 2.
        var img = new ByteImage(2, 2, 1, [1, 2, 1, 2]);
        Assert.Equal(new byte[] { 2 }, Resampler.Resize(img, 1, 1, ResampleFilter.Box).Pixels);
    }

    [Fact]
    public void BicubicUpsamplingKeepsALinearRampLinear()
    {
        // Keys' kernel reproduces linear functions: wherever all four taps lie inside the image, output o equals
        // the ramp evaluated at the sample position (o + ½)·scale − ½, up to the final rounding (±½).
        int w = 16, ow = 40;
        var img = new ByteImage(1, w, 1);
        for (int x = 0; x < w; x++) img[0, x, 0] = (byte)(10 + 12 * x);
        var up = Resampler.Resize(img, ow, 1, ResampleFilter.Bicubic);
        double scale = (double)w / ow;
        int checkedCount = 0;
        for (int o = 0; o < ow; o++)
        {
            double pos = (o + 0.5) * scale - 0.5;
            if (pos - 2 < 0 || pos + 2 > w - 1) continue;
            Assert.InRange(up[0, o, 0], 10 + 12 * pos - 0.5, 10 + 12 * pos + 0.5);
            checkedCount++;
        }
        Assert.True(checkedCount >= 25);
    }

    [Fact]
    public void BicubicHalvingOfAnImpulseMatchesHandDerivedWeights()
    {
        // Downscale ×2 stretches the kernel to support 4; output o has centre 2o + 1 and input i sits at distance
        // (i − 2o − ½)/2 ∈ {±0.25, ±0.75, ±1.25, ±1.75}. Keys a = −½ there: 0.8671875, 0.2265625, −0.0703125,
        // −0.0234375; they sum to 2 per side pair, so normalised weights are half of them.
        // Background 100, impulse +100 at i = 8: o = 4 (distance −0.25) → 143.36, o = 3 (0.75) → 111.33,
        // o = 5 (−1.25) → 96.48, o = 2 (1.75) → 98.83, others 100.
        var img = TestImages.Constant(1, 16, 1, 100);
        img[0, 8, 0] = 200;
        var half = Resampler.Resize(img, 8, 1, ResampleFilter.Bicubic);
        Assert.Equal(new byte[] { 100, 100, 99, 111, 143, 96, 100, 100 }, half.Pixels);
        Assert.Equal(0.8671875, Resampler.Kernel(ResampleFilter.Bicubic, 0.25), 12);
        Assert.Equal(0.2265625, Resampler.Kernel(ResampleFilter.Bicubic, -0.75), 12);
        Assert.Equal(-0.0703125, Resampler.Kernel(ResampleFilter.Bicubic, 1.25), 12);
        Assert.Equal(-0.0234375, Resampler.Kernel(ResampleFilter.Bicubic, 1.75), 12);
        Assert.Equal(0, Resampler.Kernel(ResampleFilter.Bicubic, 2.0));
    }

    [Fact]
    public void BilinearUpsamplingInterpolatesNeighbours()
    {
        // ×2 upsampling: output 2i+1 sits at input position i + ¼ → ¾·p[i] + ¼·p[i+1].
        var img = new ByteImage(1, 3, 1, [0, 100, 200]);
        var up = Resampler.Resize(img, 6, 1, ResampleFilter.Bilinear);
        // positions −¼ (clipped → p0), ¼, ¾, 1¼, 1¾, 2¼ (clipped → p2)
        Assert.Equal(new byte[] { 0, 25, 75, 125, 175, 200 }, up.Pixels);
    }

    [Fact]
    public void ResizeToTheSameSizeReturnsTheInput()
    {
        var img = TestImages.Pattern(4, 5, 3);
        Assert.Same(img, Resampler.Resize(img, 5, 4, ResampleFilter.Bicubic));
    }

    [Fact]
    public void SeparablePassesAreIndependentPerChannel()
    {
        // A 3-channel resize equals three 1-channel resizes.
        var rgb = TestImages.Pattern(21, 34, 3, seed: 4);
        var out_ = Resampler.Resize(rgb, 13, 40, ResampleFilter.Bicubic);
        for (int c = 0; c < 3; c++)
        {
            var plane = new ByteImage(21, 34, 1);
            for (int y = 0; y < 21; y++) for (int x = 0; x < 34; x++) plane[y, x, 0] = rgb[y, x, c];
            var p = Resampler.Resize(plane, 13, 40, ResampleFilter.Bicubic);
            for (int y = 0; y < 40; y++) for (int x = 0; x < 13; x++) Assert.Equal(p[y, x, 0], out_[y, x, c]);
        }
    }

    [Theory]
    [InlineData(ResampleFilter.Bicubic, 3)]
    [InlineData(ResampleFilter.Bilinear, 1)]
    [InlineData(ResampleFilter.Box, 3)]
    public void WindowOfAResizeEqualsCroppingTheFullResize(ResampleFilter filter, int channels)
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 40; trial++)
        {
            int w = rng.Next(1, 90), h = rng.Next(1, 90);
            var img = TestImages.Pattern(h, w, channels, trial);
            // Include unchanged axes (no pass on that axis) now and then.
            int ow = rng.Next(4) == 0 ? w : rng.Next(1, 120), oh = rng.Next(4) == 0 ? h : rng.Next(1, 120);
            int ww = rng.Next(1, ow + 1), wh = rng.Next(1, oh + 1), left = rng.Next(0, ow - ww + 1), top = rng.Next(0, oh - wh + 1);
            var full = Resampler.Resize(img, ow, oh, filter);
            var window = Resampler.ResizeWindow(img, ow, oh, filter, top, left, wh, ww);
            Assert.Equal(ImageTransforms.Crop(full, top, left, wh, ww).Pixels, window.Pixels);
        }
    }
}
