using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class DataSpecTests
{
    [Theory]
    [InlineData("fashion-mnist", DataSpecKind.FashionMnist, null, null)]
    [InlineData("  Fashion-MNIST ", DataSpecKind.FashionMnist, null, null)]
    [InlineData("idx:/data/mnist", DataSpecKind.Idx, "/data/mnist", null)]
    [InlineData("cifar10:/d/c10", DataSpecKind.Cifar10, "/d/c10", null)]
    [InlineData("cifar100:rel/c100", DataSpecKind.Cifar100, "rel/c100", null)]
    [InlineData("folder:C:\\sets\\run1", DataSpecKind.Folder, "C:\\sets\\run1", null)]
    [InlineData("imagenet:/imagenet:woof", DataSpecKind.ImageNet, "/imagenet", "woof")]
    [InlineData("imagenet:D:\\imagenet:IDC", DataSpecKind.ImageNet, "D:\\imagenet", "idc")]
    public void ParsesEveryForm(string text, DataSpecKind kind, string? dir, string? subset)
    {
        var spec = DataSpec.Parse(text);
        Assert.Equal(new DataSpec(kind, dir, subset), spec);
        Assert.Equal(spec, DataSpec.Parse(spec.ToString()));
    }

    [Theory]
    [InlineData("mnist")]
    [InlineData("")]
    [InlineData("tfds:/x")]
    [InlineData(":/x")]
    public void UnknownSpecListsTheValidForms(string text)
    {
        var e = Assert.Throws<UserInputException>(() => DataSpec.Parse(text));
        Assert.Contains("fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, folder:DIR, imagenet:DIR:nette|woof|idc", e.Message);
    }

    [Theory]
    [InlineData("imagenet:/x", "imagenet:DIR:nette|woof|idc")]
    [InlineData("imagenet:/x:cats", "subset 'cats'")]
    [InlineData("folder:", "has no folder after 'folder:'")]
    public void IncompleteSpecsSayWhatIsMissing(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<UserInputException>(() => DataSpec.Parse(text)).Message);
    }

    [Fact]
    public void FolderSpecOpensImageFoldersAndSyntheticSets()
    {
        using var dir = new TempDir();
        var png = ImageCodec.EncodePng(TestImages.Pattern(4, 4, 3));
        dir.Write("plain/train/x/0.png", png);
        dir.Write("plain/val/x/0.png", png);
        Assert.Equal(["x"], DataSpec.Open($"folder:{dir.Combine("plain")}").ClassNames);

        using (var w = SyntheticSetWriter.Create(dir.Combine("syn"), ["T-shirt/top", "Bag"], 1))
        {
            w.Add(1, TestImages.Pattern(4, 4, 1));
            w.Commit();
        }
        var syn = DataSpec.Open($"folder:{dir.Combine("syn")}");
        Assert.Equal(["T-shirt/top", "Bag"], syn.ClassNames);
        Assert.Equal([1], syn.Train.Labels());
    }

    [Fact]
    public void MissingFoldersAreUserErrors()
    {
        foreach (var spec in new[] { "idx:/nonexistent/evlf", "cifar10:/nonexistent/evlf", "cifar100:/nonexistent/evlf", "folder:/nonexistent/evlf", "imagenet:/nonexistent/evlf:nette" })
        {
            var e = Assert.Throws<UserInputException>(() => DataSpec.Open(spec));
            Assert.Contains("'/nonexistent/evlf' does not exist", e.Message);
        }
    }

    [Fact]
    public void FashionMnistSpecOpensTheInstalledDataset()
    {
        // Uses $EVLF_DATA or the Debian package, as the CLI does.
        var ds = DataSpec.Open("fashion-mnist");
        Assert.Equal(60000, ds.Train.Count);
        Assert.Equal("Ankle boot", ds.ClassNames[9]);
    }
}
