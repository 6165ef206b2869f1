using Evlf.OnnxHybrid.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class DsaAugmentationTests
{
    static Tensor Ramp(long n, long c, long h, long w) => arange(n * c * h * w, dtype: float32).reshape(n, c, h, w);

    static void Close(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tolerance, $"max |difference| {diff} > {tolerance}");
    }

    [Fact]
    public void FlipMirrorsExactlyTheSamplesBelowTheProbability()
    {
        using var x = Ramp(3, 2, 3, 4);
        using var y = DsaAugmentation.Flip(x, tensor(new[] { 0.2f, 0.7f, 0.4999f }), 0.5);
        Assert.True(y[0].Same(x[0].flip(2)));
        Assert.True(y[1].Same(x[1]));
        Assert.True(y[2].Same(x[2].flip(2)));
        // Left–right: column j becomes column W − 1 − j.
        Assert.Equal(x[0, 1, 2, 3].item<float>(), y[0, 1, 2, 0].item<float>());
    }

    [Fact]
    public void ZeroRotationAndUnitScaleAreTheIdentity()
    {
        using var x = randn(3, 1, 28, 28, generator: new Generator(1, CPU));
        Close(x, DsaAugmentation.Rotate(x, zeros(3)), 1e-5);
        Close(x, DsaAugmentation.Scale(x, ones(3), ones(3)), 1e-5);
    }

    [Fact]
    public void QuarterTurnFollowsDsasRotationMatrix()
    {
        // θ = [[cos, −sin], [sin, cos]] maps output (x, y) to input (−y, x) in normalised coordinates: on a
        // square image out[i, j] = in[j, W − 1 − i]; pixel centres land on pixel centres.
        using var x = Ramp(1, 1, 5, 5);
        using var y = DsaAugmentation.Rotate(x, tensor(new[] { (float)(Math.PI / 2) }));
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                Assert.Equal(x[0, 0, j, 4 - i].item<float>(), y[0, 0, i, j].item<float>(), 3);
    }

    [Fact]
    public void ScaleTwoShrinksTheImageIntoTheCentre()
    {
        // Output x reads input 2x: the image occupies the middle half, zeros outside.
        using var x = ones(1, 1, 8, 8);
        using var y = DsaAugmentation.Scale(x, tensor(new[] { 2f }), tensor(new[] { 2f }));
        Assert.Equal(0f, y[0, 0, 0, 0].item<float>());
        Assert.Equal(0f, y[0, 0, 7, 3].item<float>());
        Assert.Equal(1f, y[0, 0, 3, 4].item<float>(), 5);
        Assert.InRange(y.sum().item<float>(), 15.5f, 16.5f); // 4×4 of the 8×8 image
    }

    [Fact]
    public void CropShiftsByWholePixelsAndFillsZeros()
    {
        using var x = Ramp(2, 1, 4, 4) + 1;
        using var y = DsaAugmentation.Crop(x, tensor(new long[] { 1, 0 }), tensor(new long[] { -2, 0 }));
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
            {
                int sr = r + 1, sc = c - 2;
                float expected = sr is >= 0 and < 4 && sc is >= 0 and < 4 ? x[0, 0, sr, sc].item<float>() : 0f;
                Assert.Equal(expected, y[0, 0, r, c].item<float>());
            }
        Assert.True(y[1].Same(x[1]));
    }

    [Fact]
    public void CutoutZeroesAHalfSizedSquare()
    {
        // 28×28, ratio 0.5 → 14×14 square: rows/cols offset − 7 … offset + 6, clipped to the image.
        using var x = ones(3, 1, 28, 28);
        using var y = DsaAugmentation.Cutout(x, tensor(new long[] { 14, 0, 28 }), tensor(new long[] { 14, 14, 28 }), 14, 14);
        var zeroFraction = (1 - y).sum([1, 2, 3]).to(float64) / (28.0 * 28.0);
        Assert.Equal(196.0 / 784, zeroFraction[0].item<double>(), 6);       // fully inside: a quarter
        Assert.Equal(7 * 14 / 784.0, zeroFraction[1].item<double>(), 6);    // rows −7..6 → 0..6
        Assert.Equal(7 * 7 / 784.0, zeroFraction[2].item<double>(), 6);     // rows and cols 21..34 → 21..27
        Assert.Equal(0f, y[0, 0, 7, 7].item<float>());
        Assert.Equal(0f, y[0, 0, 20, 20].item<float>());
        Assert.Equal(1f, y[0, 0, 21, 20].item<float>());
        Assert.Equal(1f, y[0, 0, 6, 10].item<float>());
    }

    [Fact]
    public void CutoutThroughApplyNeverZeroesMoreThanAQuarter()
    {
        var dsa = new DsaAugmentation();
        using var g = new Generator(4, CPU);
        using var x = ones(256, 1, 28, 28);
        using var y = dsa.Apply(DsaOp.Cutout, x, g);
        var fractions = ((1 - y).sum([1, 2, 3]).to(float64) / 784.0).data<double>().ToArray();
        Assert.All(fractions, f => Assert.InRange(f, 49.0 / 784 - 1e-9, 0.25 + 1e-9));
        Assert.Contains(fractions, f => Math.Abs(f - 0.25) < 1e-9);
        Assert.Contains(fractions, f => f < 0.25 - 1e-9);
    }

    [Fact]
    public void ColourOpsFollowTheirFormulas()
    {
        using var x = randn(4, 3, 5, 6, generator: new Generator(2, CPU));
        using var u = tensor(new[] { 0.1f, 0.5f, 0.9f, 0.0f });
        var xs = x.data<float>().ToArray();
        var us = u.data<float>().ToArray();
        int plane = 30, sample = 90;

        using var b = DsaAugmentation.Brightness(x, u, 1.0);
        var bs = b.data<float>().ToArray();
        for (int i = 0; i < xs.Length; i++) Assert.Equal(xs[i] + (us[i / sample] - 0.5f), bs[i], 5);

        using var s = DsaAugmentation.Saturation(x, u, 2.0);
        var ss = s.data<float>().ToArray();
        for (int n = 0; n < 4; n++)
            for (int p = 0; p < plane; p++)
            {
                float m = (xs[n * sample + p] + xs[n * sample + plane + p] + xs[n * sample + 2 * plane + p]) / 3;
                for (int c = 0; c < 3; c++)
                {
                    int i = n * sample + c * plane + p;
                    Assert.Equal((xs[i] - m) * (us[n] * 2) + m, ss[i], 4);
                }
            }

        using var k = DsaAugmentation.Contrast(x, u, 0.5);
        var ks = k.data<float>().ToArray();
        for (int n = 0; n < 4; n++)
        {
            float m = xs.Skip(n * sample).Take(sample).Average();
            for (int i = n * sample; i < (n + 1) * sample; i++) Assert.Equal((xs[i] - m) * (us[n] + 0.5f) + m, ks[i], 4);
        }

        // One channel: the channel mean is the pixel itself, so saturation changes nothing.
        using var gray = randn(2, 1, 4, 4);
        Assert.True(DsaAugmentation.Saturation(gray, tensor(new[] { 0.3f, 0.8f }), 2.0).allclose(gray));
    }

    [Fact]
    public void OneOperationPerBatchUniformlyOverTheStrategy()
    {
        var dsa = new DsaAugmentation();
        Assert.Equal(new[] { DsaOp.Color, DsaOp.Crop, DsaOp.Cutout, DsaOp.Flip, DsaOp.Scale, DsaOp.Rotate }, dsa.Ops);
        using var g = new Generator(11, CPU);
        var counts = new int[6];
        const int draws = 6000;
        for (int i = 0; i < draws; i++) counts[(int)dsa.DrawOp(g)]++;
        // Binomial(6000, 1/6): σ ≈ 28.9; ±5σ.
        Assert.All(counts, c => Assert.InRange(c, 1000 - 145, 1000 + 145));
    }

    [Fact]
    public void ParametersAreDrawnPerSampleAndTheSeedFixesThem()
    {
        var dsa = new DsaAugmentation();
        using var x = zeros(64, 1, 8, 8);
        using var g1 = new Generator(9, CPU);
        using var y = dsa.Apply(DsaOp.Color, x, g1);
        // On zeros, colour = brightness shift (u − 0.5) then contrast about the (shifted) mean: a constant per sample.
        var perSample = y.amax([1, 2, 3]).data<float>().ToArray();
        Assert.All(perSample, v => Assert.InRange(v, -0.5f, 0.5f));
        Assert.True(perSample.Distinct().Count() > 50, "each sample gets its own brightness");

        using var g2 = new Generator(9, CPU);
        using var g3 = new Generator(9, CPU);
        using var r = randn(8, 1, 28, 28);
        for (int i = 0; i < 10; i++)
        {
            using var a = dsa.Apply(r, g2);
            using var b = dsa.Apply(r, g3);
            Assert.True(a.Same(b));
        }
    }

    [Fact]
    public void StrategiesParse()
    {
        Assert.Equal(new[] { DsaOp.Flip, DsaOp.Rotate }, new DsaParameters("flip_rotate").Ops());
        Assert.Empty(new DsaParameters("none").Ops());
        Assert.Throws<UserInputException>(() => new DsaParameters("flip_blur").Ops());
        using var x = randn(2, 1, 4, 4);
        using var g = new Generator(0, CPU);
        Assert.Same(x, new DsaAugmentation(new DsaParameters("none")).Apply(x, g));
    }
}
