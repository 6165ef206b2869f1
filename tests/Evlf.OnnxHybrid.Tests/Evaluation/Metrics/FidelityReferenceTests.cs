using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation.Metrics;
using Evlf.OnnxHybrid.Tests.Evaluation;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Metrics;

public class FidelityReferenceTests
{
    [Fact]
    public void PixelsAreScaledToMinusOneOneAndResized()
    {
        var black = new ByteImage(2, 2, 1, [0, 0, 0, 0]);
        var white = new ByteImage(4, 4, 3, Enumerable.Repeat((byte)255, 48).ToArray());
        using var pixels = PixelPcaFeatures.Pixels([black, white], 2, 2, 1);
        Assert.Equal(new long[] { 2, 4 }, pixels.shape);
        Assert.Equal(new[] { -1.0, -1, -1, -1, 1, 1, 1, 1 }, pixels.data<double>().ToArray());
    }

    [Fact]
    public void PcaFeaturesKeepDistancesOfDataThatLieInFewDimensions()
    {
        // Images that vary along two pixel directions only: a PCA with ≥ 2 components keeps their pairwise
        // distances exactly (up to rounding), which is what the metrics rely on.
        var random = new Random(1);
        var images = Enumerable.Range(0, 30).Select(_ =>
        {
            byte a = (byte)random.Next(256), b = (byte)random.Next(256);
            return new ByteImage(3, 3, 1, [a, a, 0, b, b, 0, 9, 9, 9]);
        }).ToArray();
        using var space = PixelPcaFeatures.Fit(images, components: 4);
        Assert.Equal(4, space.Dimensions);
        using var z = space.Transform(images);
        using var x = PixelPcaFeatures.Pixels(images, 3, 3, 1);
        // Direct differences, not cdist's ‖a‖² + ‖b‖² − 2a·b, whose rounding shows on the zero diagonal.
        using var dz = z.unsqueeze(1).sub(z.unsqueeze(0)).square().sum(2);
        using var dx = x.unsqueeze(1).sub(x.unsqueeze(0)).square().sum(2);
        Assert.True(dz.allclose(dx, rtol: 1e-9, atol: 1e-9));
        Assert.Contains("PCA-4 of [−1, 1] pixels (3×3×1) fitted on 30 real training images", space.Describe());
    }

    [Fact]
    public void LargeImagesAreShrunkToTheLargestSide()
    {
        var random = new Random(2);
        var images = Enumerable.Range(0, 5).Select(_ =>
        {
            var pixels = new byte[64 * 48 * 3];
            random.NextBytes(pixels);
            return new ByteImage(48, 64, 3, pixels);
        }).ToArray();
        using var space = PixelPcaFeatures.Fit(images, components: 3, maxSide: 32);
        Assert.Equal((24, 32, 3), (space.Height, space.Width, space.Channels)); // 64×48 → 32×24
        using var z = space.Transform([new ByteImage(10, 10, 1)]);                 // any size and channels map into the space
        Assert.Equal(new long[] { 1, 3 }, z.shape);
        Assert.Contains("(32×24×3)", space.Describe());
    }

    [Fact]
    public void SampleIsSeededBoundedAndGroupedByClass()
    {
        var data = TinyData.Bars(perClass: 10);
        var a = FidelityReference.Sample(data.Train, 3, 4, seed: 5);
        Assert.Equal(a, FidelityReference.Sample(data.Train, 3, 4, seed: 5));
        Assert.NotEqual(a, FidelityReference.Sample(data.Train, 3, 4, seed: 6));
        Assert.Equal(12, a.Length);
        Assert.Equal(new[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 }, a.Select(data.Train.LabelOf).ToArray());
        Assert.Equal(30, FidelityReference.Sample(data.Train, 3, 100, seed: 0).Length); // all of each class when fewer
    }

    [Fact]
    public void PerClassScoresCompareWithinAClassAndGlobalIgnoresLabels()
    {
        var data = TinyData.Bars(perClass: 40);
        using var reference = FidelityReference.Build(data, new FidelityOptions { K = 5, RealPerClass = 30 });
        Assert.Equal(90, reference.RealLabels.Count);

        // The reference images themselves, correctly labelled: every class and the whole set fully covered.
        var labels = reference.RealLabels.ToArray();
        var own = reference.Score(reference.RealFeatures, labels);
        Assert.Equal(3, own.ScoredClasses);
        Assert.Equal(1.0, own.MeanCoverage);
        Assert.Equal(1.0, own.Global.Coverage);

        // The same images with every label moved to the next class: bars of another orientation lie far outside
        // the class's balls, so the per-class scores collapse while the global ones, which ignore labels, do not move.
        var shifted = labels.Select(l => (l + 1) % 3).ToArray();
        var wrong = reference.Score(reference.RealFeatures, shifted);
        Assert.Equal(own.Global, wrong.Global);
        Assert.Equal(0.0, wrong.MeanCoverage);
        Assert.Equal(0.0, wrong.MeanDensity);

        // A class without synthetic images is left out of the means, not counted as zero.
        var twoClasses = Enumerable.Range(0, labels.Length).Where(i => labels[i] != 2).Select(i => (long)i).ToArray();
        using var index = tensor(twoClasses);
        using var subset = reference.RealFeatures.index_select(0, index);
        var partial = reference.Score(subset, twoClasses.Select(i => labels[i]).ToArray());
        Assert.Null(partial.PerClass[2]);
        Assert.Equal(2, partial.ScoredClasses);
        Assert.Equal(1.0, partial.MeanCoverage);
    }

    [Fact]
    public void TooFewRealImagesIsAUserError()
    {
        var data = TinyData.Bars(perClass: 3);
        Assert.Contains("k = 20", Assert.Throws<UserInputException>(() => FidelityReference.Build(data)).Message);
    }
}
