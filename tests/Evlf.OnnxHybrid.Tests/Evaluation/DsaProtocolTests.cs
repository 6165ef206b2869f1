using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class DsaProtocolTests
{
    [Fact]
    public void LearningRateDropsTenfoldAtHalf()
    {
        var p = new DsaProtocol();
        Assert.Equal(1000, p.Epochs);
        Assert.Equal(0.01, p.LearningRateAt(0));
        Assert.Equal(0.01, p.LearningRateAt(499));
        Assert.Equal(0.001, p.LearningRateAt(500), 12);
        Assert.Equal(0.001, p.LearningRateAt(999), 12);
        var odd = new DsaProtocol(new DsaProtocolOptions { Epochs = 5 });
        Assert.Equal(new[] { 0.01, 0.01, 0.001, 0.001, 0.001 }, Enumerable.Range(0, 5).Select(e => Math.Round(odd.LearningRateAt(e), 6)));
        Assert.Throws<UserInputException>(() => new DsaProtocol(new DsaProtocolOptions { Epochs = 0 }));
    }

    [Fact]
    public void TrainingFollowsTheScheduleAndIsDeterministicForASeed()
    {
        var data = TinyData.Bars(4);
        var norm = Normalization.MeanStd([0.3f], [0.3f]);
        using var train = LabelledImages.Load(data.Train, norm, 1, 12, 12);
        using var test = LabelledImages.Load(data.Test, norm, 1, 12, 12);
        var protocol = new DsaProtocol(new DsaProtocolOptions { Epochs = 4, BatchSize = 5 });
        var arch = ClassifierArchitecture.Parse("convnet1");

        var seen = new ProgressLog();
        var a = protocol.Run(arch, train, test, 3, seed: 7, seen);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, seen.Items.Select(t => t.Done));
        Assert.Equal(new[] { "lr 0.01", "lr 0.01", "lr 0.001", "lr 0.001" }, seen.Items.Select(t => t.Status!.Split(", ")[1]));
        seen.AssertCountsUpToTotal("train");
        Assert.Equal(4 * 12, a.TrainImages);

        var b = protocol.Run(arch, train, test, 3, seed: 7);
        Assert.Equal(a.FinalLoss, b.FinalLoss);
        Assert.Equal(a.TestAccuracy, b.TestAccuracy);
        var c = protocol.Run(arch, train, test, 3, seed: 8);
        Assert.NotEqual(a.FinalLoss, c.FinalLoss);
    }

    [Fact]
    public void CancellationStopsTraining()
    {
        var data = TinyData.Bars(2);
        var norm = Normalization.MeanStd([0.3f], [0.3f]);
        using var train = LabelledImages.Load(data.Train, norm, 1, 12, 12);
        using var cts = new CancellationTokenSource();
        var cancelling = new CancelAfter(cts, 2);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new DsaProtocol(new DsaProtocolOptions { Epochs = 50 }).Run(ClassifierArchitecture.Parse("convnet1"), train, train, 3, 0, cancelling, cts.Token));
        Assert.Equal(2, cancelling.Seen);
    }

    private sealed class CancelAfter(CancellationTokenSource cts, int epochs) : IProgress<WorkProgress>
    {
        public int Seen { get; private set; }
        public void Report(WorkProgress value)
        {
            Seen = (int)value.Done;
            if (Seen == epochs) cts.Cancel();
        }
    }

    [Fact]
    public void ThirtyEpochsOnTenFashionMnistImagesPerClassSeparateThreeClasses()
    {
        // Trouser, Sneaker and Bag: 10 real training images each, 30 epochs of the real protocol (ConvNet-3, DSA
        // augmentation, SGD 0.01 → 0.001 at epoch 15), tested on 100 real test images per class. Chance is 33%.
        var fm = TinyData.FashionMnist;
        int[] classes = [1, 7, 8];
        var norm = Normalization.MeanStd([FashionMnist.Statistics.Mean], [FashionMnist.Statistics.Std]);
        var trainIndices = classes.SelectMany(c => Enumerable.Range(0, fm.Train.Count).Where(i => fm.Train.LabelOf(i) == c).Take(10)).ToArray();
        var testIndices = classes.SelectMany(c => Enumerable.Range(0, fm.Test.Count).Where(i => fm.Test.LabelOf(i) == c).Take(100)).ToArray();
        var map = new int[10];
        for (int i = 0; i < classes.Length; i++) map[classes[i]] = i;
        using var train = LabelledImages.Load(fm.Train, norm, 1, 28, 28, trainIndices, map);
        using var test = LabelledImages.Load(fm.Test, norm, 1, 28, 28, testIndices, map);
        Assert.Equal(new[] { 10, 10, 10 }, train.CountPerClass(3));

        var result = new DsaProtocol(new DsaProtocolOptions { Epochs = 30 }).Run(ClassifierArchitecture.ConvNet3, train, test, 3, seed: 0);
        Assert.True(result.TestAccuracy >= 0.8, $"accuracy {result.TestAccuracy:P1} after 30 epochs");
        Assert.True(result.FinalLoss < 1.0, $"final loss {result.FinalLoss}");
    }
}
