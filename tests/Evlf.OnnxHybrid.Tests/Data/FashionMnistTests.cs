using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class FashionMnistTests
{
    [Fact]
    public void RealFashionMnistHasTheKnownSplits()
    {
        // CI installs Debian's dataset-fashion-mnist; this test must fail (not skip) where it is missing.
        var dir = FashionMnist.Locate(evlfData: "", systemDirectory: FashionMnist.SystemDirectory);
        var ds = IdxReader.Open(dir, FashionMnist.ClassNames, "fashion-mnist");
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], ds.ClassNames);
        Assert.Equal(60000, ds.Train.Count);
        Assert.Equal(10000, ds.Test.Count);
        Assert.All(ds.Train.CountPerClass(10), n => Assert.Equal(6000, n));
        Assert.All(ds.Test.CountPerClass(10), n => Assert.Equal(1000, n));
        Assert.Equal([9, 0, 0, 3, 0, 2, 7, 2, 5, 5], ds.Train.Labels()[..10]);
        Assert.Equal([9, 2, 1, 1, 6, 1, 4, 6, 5, 7], ds.Test.Labels()[..10]);
        var first = ds.Train.Load(0);
        Assert.Equal((28, 28, 1), (first.Height, first.Width, first.Channels));
        Assert.Equal(76247, first.Pixels.Sum(b => b));

        // What `evlf inspect --data fashion-mnist` prints: every sample decoded once, nothing skipped.
        var report = DatasetInspector.Inspect(ds);
        Assert.Equal((60000, 60000, 0), (report.Train.Total, report.Train.Decoded, report.Train.Skipped));
        Assert.Equal((10000, 10000, 0), (report.Test.Total, report.Test.Decoded, report.Test.Skipped));
        Assert.All(report.Train.PerClass, n => Assert.Equal(6000, n));
        Assert.Equal((28, 28, 28, 28), (report.Train.MinWidth, report.Train.MaxWidth, report.Train.MinHeight, report.Train.MaxHeight));
        Assert.Equal(FashionMnist.ClassNames, report.ClassNames);
    }

    [Fact]
    public void EvlfDataIsSearchedFirstAndItsSubfolderToo()
    {
        using var dir = new TempDir();
        var sub = Directory.CreateDirectory(dir.Combine("fashion-mnist")).FullName;
        File.WriteAllBytes(Path.Combine(sub, "train-images-idx3-ubyte.gz"), [0x1F, 0x8B]);
        Assert.Equal(sub, FashionMnist.Locate(dir.Path, "/nonexistent/evlf"));
        File.WriteAllBytes(dir.Combine("train-images-idx3-ubyte"), []);
        Assert.Equal(dir.Path, FashionMnist.Locate(dir.Path, "/nonexistent/evlf"));
    }

    [Fact]
    public void MissingDatasetSaysHowToInstallIt()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<UserInputException>(() => FashionMnist.Locate(dir.Path, "/nonexistent/evlf-fmnist"));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains("EVLF_DATA", e.Message);
        Assert.Contains("'/nonexistent/evlf-fmnist'", e.Message);
    }
}
