using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class ImageNetSubsetTests
{
    [Theory]
    [InlineData("nette", "n01440764", 0, "tench, Tinca tinca")]
    [InlineData("woof", "n02096294", 193, "Australian terrier")]
    [InlineData("idc", "n02869837", 452, "bonnet, poke bonnet")]
    public void ListsLoadFromTheAssembly(string key, string firstSynset, int firstIndex, string firstName)
    {
        var subset = ImageNetSubset.Get(key);
        Assert.Equal(10, subset.Classes.Count);
        Assert.Equal(new ImageNetClass(firstSynset, firstIndex, firstName), subset.Classes[0]);
        Assert.Equal(10, subset.Classes.Select(c => c.Synset).Distinct().Count());
        Assert.All(subset.Classes, c => Assert.Matches("^n[0-9]{8}$", c.Synset));
    }

    [Fact]
    public void ImageNetIndicesAgreeWithSortedSynsetOrder()
    {
        // ImageNet-1k labels are the ranks of the synsets in sorted order, so across all 30 classes the index
        // order must equal the synset order: a typo in either column breaks this.
        var all = ImageNetSubset.Keys.SelectMany(k => ImageNetSubset.Get(k).Classes).ToArray();
        foreach (var a in all)
            foreach (var b in all)
                Assert.Equal(Math.Sign(string.CompareOrdinal(a.Synset, b.Synset)), Math.Sign(a.ImageNetIndex.CompareTo(b.ImageNetIndex)));
        Assert.All(all, c => Assert.InRange(c.ImageNetIndex, 0, 999));
    }

    [Fact]
    public void ImageWoofKeepsTheAnchorsOrder()
    {
        Assert.Equal(["n02096294", "n02093754", "n02111889", "n02088364", "n02086240", "n02089973", "n02087394", "n02115641", "n02099601", "n02105641"],
            ImageNetSubset.Get("woof").Classes.Select(c => c.Synset));
    }

    [Fact]
    public void OpensAnImageNetStyleFolderInListOrder()
    {
        using var dir = new TempDir();
        var woof = ImageNetSubset.Get("woof");
        var png = ImageCodec.EncodePng(TestImages.Pattern(4, 4, 3));
        foreach (var (c, i) in woof.Classes.Select((c, i) => (c, i)))
        {
            for (int k = 0; k <= i % 2; k++) dir.Write($"train/{c.Synset}/{k}.png", png);
            dir.Write($"val/{c.Synset}/v.png", png);
        }
        dir.Write("train/n01440764/other.png", png); // a class outside the subset is ignored
        var ds = woof.Open(dir.Path);
        Assert.Equal(woof.Classes.Select(c => c.Name), ds.ClassNames);
        Assert.Equal(15, ds.Train.Count);
        Assert.Equal(10, ds.Test.Count);
        Assert.Contains("n02096294", ds.Train.SourceOf(0));
        Assert.Equal(1, ds.Train.LabelOf(1));
        Assert.Equal(1, ds.Train.LabelOf(2));
    }

    [Fact]
    public void MissingSynsetFolderNamesTheClass()
    {
        using var dir = new TempDir();
        var nette = ImageNetSubset.Get("nette");
        var png = ImageCodec.EncodePng(TestImages.Pattern(4, 4, 3));
        foreach (var c in nette.Classes.Skip(1))
        {
            dir.Write($"train/{c.Synset}/0.png", png);
            dir.Write($"val/{c.Synset}/0.png", png);
        }
        var e = Assert.Throws<UserInputException>(() => nette.Open(dir.Path));
        Assert.Contains("no class folder 'n01440764' (tench, Tinca tinca), which ImageNette needs", e.Message);
    }

    [Fact]
    public void UnknownSubsetIsAUserError()
    {
        Assert.Contains("expected one of nette, woof, idc", Assert.Throws<UserInputException>(() => ImageNetSubset.Get("meow")).Message);
    }
}
