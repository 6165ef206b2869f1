using Evlf.OnnxHybrid.Output;

namespace Evlf.OnnxHybrid.Tests.Output;

/// <summary>Outputs never overlap inputs, however the paths are spelt.</summary>
public class PathsApartTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-apart-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void AnOutputEqualToInsideOrHoldingAnInputIsRefused()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        PathsApart.Require([new("--out", Path.Combine(root, "runs", "x"))], [new("--data", data)]);
        Assert.Contains("is the folder of --data", Assert.Throws<UserInputException>(() =>
            PathsApart.Require([new("--out", Path.Combine(root, "runs", "..", "data"))], [new("--data", data)])).Message);
        Assert.Contains("lies inside --data", Assert.Throws<UserInputException>(() =>
            PathsApart.Require([new("--out", Path.Combine(data, "train", "new"))], [new("--data", data)])).Message);
        Assert.Contains("lies inside --out", Assert.Throws<UserInputException>(() =>
            PathsApart.Require([new("--out", root)], [new("--data", data)])).Message);
        Assert.Contains("same folder", Assert.Throws<UserInputException>(() =>
            PathsApart.Require([new("--out", data + "/../x"), new("--cache", Path.Combine(root, "x"))], [])).Message);
    }

    [Fact]
    public void LinksAreResolvedBeforeComparing()
    {
        var bundle = Directory.CreateDirectory(Path.Combine(root, "bundle")).FullName;
        var link = Path.Combine(root, "link");
        Directory.CreateSymbolicLink(link, bundle);
        Assert.Throws<UserInputException>(() => PathsApart.Require([new("--out", Path.Combine(link, "out"))], [new("--bundle", bundle)]));
        Assert.Throws<UserInputException>(() => PathsApart.Require([new("--cache", bundle)], [new("--bundle", link)]));
        Assert.Equal(ResolvedPath.Of(bundle), ResolvedPath.Of(link));
    }

    [Fact]
    public void ALoopOfLinksIsComparedAsWritten()
    {
        var a = Path.Combine(root, "a");
        var b = Path.Combine(root, "b");
        File.CreateSymbolicLink(a, b);
        File.CreateSymbolicLink(b, a);
        Assert.EndsWith("a", ResolvedPath.Of(a));
    }
}
