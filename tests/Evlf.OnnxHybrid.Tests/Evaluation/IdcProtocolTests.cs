using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class IdcProtocolTests
{
    static readonly Normalization Norm = Normalization.MeanStd([0.3f], [0.3f]);

    [Theory]
    [InlineData(1, 10, 3000)]
    [InlineData(2, 10, 2000)]
    [InlineData(10, 10, 2000)]
    [InlineData(11, 10, 1500)]
    [InlineData(50, 10, 1500)]
    [InlineData(51, 10, 1000)]
    [InlineData(200, 10, 1000)]
    [InlineData(500, 10, 500)]
    [InlineData(501, 10, 300)]
    [InlineData(1, 100, 2000)]
    [InlineData(10, 100, 1300)]
    [InlineData(50, 100, 1000)]
    [InlineData(100, 100, 600)]
    [InlineData(500, 100, 300)]
    [InlineData(1000, 100, 200)]
    public void EpochTable(int ipc, int classes, int epochs) => Assert.Equal(epochs, IdcProtocol.EpochsFor(ipc, classes));

    [Fact]
    public void MultiStepScheduleAtTwoThirdsAndFiveSixths()
    {
        var p = new IdcProtocol(Norm, 1, 12);
        Assert.Equal(new[] { 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.002, 0.002, 0.0004, 0.0004 },
            Enumerable.Range(0, 12).Select(e => Math.Round(p.LearningRateAt(e), 8)));
        var ten = new IdcProtocol(Norm, 1, 2000);
        Assert.Equal(0.01, ten.LearningRateAt(1332));
        Assert.Equal(0.002, ten.LearningRateAt(1333), 10);
        Assert.Equal(0.0004, ten.LearningRateAt(1666), 10);
    }

    [Fact]
    public void CropBoxesFollowTorchvisionsRanges()
    {
        var aug = new IdcAugmentation();
        using var g = new Generator(5, CPU);
        var boxes = aug.DrawCropBoxes(500, 224, 224, g);
        foreach (var b in boxes)
        {
            Assert.InRange(b.Top, 0, 224 - b.Height);
            Assert.InRange(b.Left, 0, 224 - b.Width);
            double area = (double)b.Height * b.Width / (224 * 224);
            Assert.InRange(area, 0.49, 1.0);
            Assert.InRange((double)b.Width / b.Height, 0.74, 1.36);
        }
        Assert.Contains(boxes, b => b.Height * b.Width < 0.6 * 224 * 224);
        Assert.Contains(boxes, b => b.Width != b.Height);
    }

    [Fact]
    public void ResizedCropEnlargesTheWindowOnly()
    {
        // 8×8: top-left quadrant ones, the rest zeros. Cropping that quadrant and enlarging it gives all ones
        // (edges clamp to the window, as PIL does); the whole-image box is the identity.
        using var x = zeros(2, 1, 8, 8);
        x[0, 0, TensorIndex.Slice(0, 4), TensorIndex.Slice(0, 4)] = ones(4, 4);
        x[1] = rand(1, 8, 8);
        using var y = IdcAugmentation.ResizedCrop(x, [(0, 0, 4, 4), (0, 0, 8, 8)]);
        Assert.Equal(64f, y[0].sum().item<float>(), 4);
        Assert.True(y[1].Same(x[1]));
    }

    [Fact]
    public void ColourJitterIsALerpPerSample()
    {
        using var g = new Generator(2, CPU);
        using var x = rand(16, 3, 6, 6, generator: new Generator(1, CPU)) + 0.1;
        // Brightness only: y = x·(1 − α), α ∈ [−0.4, 0.4] per sample.
        var brightness = new IdcAugmentation(new IdcAugmentationParameters(Contrast: 0, Saturation: 0));
        using var yb = brightness.ColorJitter(x, g);
        var ratio = yb / x;
        var lo = ratio.amin([1, 2, 3]).data<float>().ToArray();
        var hi = ratio.amax([1, 2, 3]).data<float>().ToArray();
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(lo[i], hi[i], 4);
            Assert.InRange(lo[i], 0.6f - 1e-5f, 1.4f + 1e-5f);
        }
        Assert.True(lo.Distinct().Count() > 10);
        // Saturation only: lerp towards the luma image, so the luma (0.299, 0.587, 0.114) is unchanged.
        var saturation = new IdcAugmentation(new IdcAugmentationParameters(Brightness: 0, Contrast: 0));
        using var ys = saturation.ColorJitter(x, g);
        Assert.True(IdcAugmentation.Grayscale(ys).allclose(IdcAugmentation.Grayscale(x), rtol: 1e-4, atol: 1e-5));
        Assert.False(ys.allclose(x));
        // Contrast only: lerp towards the luma mean, so that mean is unchanged.
        var contrast = new IdcAugmentation(new IdcAugmentationParameters(Brightness: 0, Saturation: 0));
        using var yc = contrast.ColorJitter(x, g);
        Assert.True(IdcAugmentation.Grayscale(yc).mean([1, 2, 3]).allclose(IdcAugmentation.Grayscale(x).mean([1, 2, 3]), rtol: 1e-4, atol: 1e-5));
        // One channel: saturation is the identity.
        using var gray = rand(4, 1, 5, 5);
        Assert.True(saturation.ColorJitter(gray, g).allclose(gray));
    }

    [Fact]
    public void LightingAddsThePcaColourShift()
    {
        using var x = zeros(1, 3, 2, 2);
        using var y = IdcAugmentation.Lighting(x, tensor(new[] { 1f, 0f, 0f }, [1, 3]));
        // α = (1, 0, 0): channel c gets eigvec[c, 0]·eigval[0].
        Assert.Equal(-0.5675f * 0.2175f, y[0, 0, 1, 1].item<float>(), 6);
        Assert.Equal(-0.5808f * 0.2175f, y[0, 1, 0, 0].item<float>(), 6);
        Assert.Equal(-0.5836f * 0.2175f, y[0, 2, 0, 1].item<float>(), 6);
        using var z = IdcAugmentation.Lighting(x, tensor(new[] { 0f, 0f, 2f }, [1, 3]));
        Assert.Equal(0.4203f * 0.0045f * 2, z[0, 2, 0, 0].item<float>(), 6);
    }

    [Fact]
    public void CutMixCopiesOneBoxFromThePartnerAndWeighsByArea()
    {
        using var g = new Generator(3, CPU);
        using var x = arange(8, dtype: float32).view(8, 1, 1, 1).expand(8, 1, 10, 10).contiguous();
        using var y = arange(8, dtype: int64);
        for (int trial = 0; trial < 20; trial++)
        {
            var (mixed, partner, ratio) = IdcProtocol.CutMix(x, y, g);
            for (int i = 0; i < 8; i++)
            {
                var values = mixed[i].flatten().data<float>().ToArray();
                int own = values.Count(v => v == i), theirs = values.Count(v => v == partner[i].item<long>());
                if (partner[i].item<long>() == i) continue;
                Assert.Equal(100, own + theirs);
                Assert.Equal(ratio, own / 100.0, 9);
            }
            mixed.Dispose();
            partner.Dispose();
        }
    }

    [Fact]
    public void ATinyIdcRunIsDeterministicForASeed()
    {
        var data = TinyData.Bars(6);
        using var train = LabelledImages.Load(data.Train, Norm, 1, 12, 12);
        using var test = LabelledImages.Load(data.Test, Norm, 1, 12, 12);
        var protocol = new IdcProtocol(Norm, 1, 6, new IdcProtocolOptions { BatchSize = 6 });
        var arch = ClassifierArchitecture.Parse("convnet1");
        var a = protocol.Run(arch, train, test, 3, seed: 1);
        var b = protocol.Run(arch, train, test, 3, seed: 1);
        Assert.Equal(a.FinalLoss, b.FinalLoss);
        Assert.Equal(a.TestAccuracy, b.TestAccuracy);
        Assert.Equal(6 * 18, a.TrainImages);
        Assert.True(double.IsFinite(a.FinalLoss));
    }
}
