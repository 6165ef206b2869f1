using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Metrics;

public class ClassAgreementTests
{
    /// <summary>A classifier whose logits are the image's three pixels: it predicts the brightest pixel's index.</summary>
    static nn.Module<Tensor, Tensor> BrightestPixel()
    {
        var linear = nn.Linear(3, 3, hasBias: false);
        using (no_grad()) linear.weight!.copy_(eye(3));
        return nn.Sequential(nn.Flatten(), linear);
    }

    [Fact]
    public void CountsAgreeingImagesOverallAndPerClassByHand()
    {
        // Seven 1×1×3 images; the brightest pixel is the predicted class. Labels: class 0 ×3, class 1 ×4, class 2 none.
        float[][] pixels = [[9, 1, 1], [1, 9, 1], [9, 2, 3], [1, 9, 1], [1, 1, 9], [1, 9, 0], [5, 4, 3]];
        long[] labels = [0, 0, 0, 1, 1, 1, 1];
        // predicted:     0  1  0  1  2  1  0   → class 0 agrees 2 of 3, class 1 agrees 2 of 4, overall 4 of 7.
        using var set = new LabelledImages(tensor(pixels.SelectMany(p => p).ToArray(), [7, 1, 1, 3]), tensor(labels));
        using var classifier = BrightestPixel();

        foreach (int batch in new[] { 256, 3, 1 })
        {
            var a = ClassAgreement.Measure(classifier, set, classes: 3, batchSize: batch);
            Assert.Equal(4.0 / 7, a.Overall, 12);
            Assert.Equal(2.0 / 3, a.PerClass[0]!.Value, 12);
            Assert.Equal(0.5, a.PerClass[1]!.Value, 12);
            Assert.Null(a.PerClass[2]);
            Assert.Equal(0.5, a.Lowest!.Value, 12);
            Assert.Equal(1, a.LowestClass);
        }
        Assert.True(classifier.training); // the mode it came in with is restored
    }
}
