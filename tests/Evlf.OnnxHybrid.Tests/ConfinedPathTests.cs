namespace Evlf.OnnxHybrid.Tests;

/// <summary>A path a file names stays inside that file's folder, however it is spelt.</summary>
public class ConfinedPathTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-confined-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    string Folder(string name) => Directory.CreateDirectory(Path.Combine(root, name)).FullName;

    [Fact]
    public void PathsInsideResolveToTheRealFile()
    {
        var bundle = Folder("bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "sub"));
        File.WriteAllText(Path.Combine(bundle, "sub", "a.onnx"), "x");
        File.CreateSymbolicLink(Path.Combine(bundle, "link.onnx"), Path.Combine(bundle, "sub", "a.onnx"));

        Assert.Equal(Path.Combine(bundle, "sub", "a.onnx"), ConfinedPath.Resolve(bundle, "sub/a.onnx", "file"));
        Assert.Equal(Path.Combine(bundle, "sub", "a.onnx"), ConfinedPath.Resolve(bundle, "sub/../sub/a.onnx", "file"));
        Assert.Equal(Path.Combine(bundle, "sub", "a.onnx"), ConfinedPath.Resolve(bundle, "link.onnx", "file"));
        // A file that does not exist yet (a write-back target) resolves too.
        Assert.Equal(Path.Combine(bundle, "new.data"), ConfinedPath.Resolve(bundle, "new.data", "file"));
    }

    [Fact]
    public void DotDotAbsoluteAndLinksOutAreRefused()
    {
        var bundle = Folder("bundle");
        var secret = Path.Combine(Folder("outside"), "secret.txt");
        File.WriteAllText(secret, "secret");
        File.CreateSymbolicLink(Path.Combine(bundle, "out.onnx"), secret);
        Directory.CreateSymbolicLink(Path.Combine(bundle, "dir"), Path.Combine(root, "outside"));

        var e = Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, "../outside/secret.txt", "vae.encoder"));
        Assert.StartsWith("vae.encoder '../outside/secret.txt' resolves to", e.Message);
        Assert.Contains("outside", e.Message);
        Assert.Contains("is an absolute path", Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, secret, "f")).Message);
        Assert.Contains("leads through a link", Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, "out.onnx", "f")).Message);
        Assert.Contains("leads through a link", Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, "dir/secret.txt", "f")).Message);
        Assert.Contains("is empty", Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, "", "f")).Message);
        Assert.Contains("the folder itself", Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, ".", "f")).Message);
        Assert.Contains("NUL", Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, "a\0b", "f")).Message);
    }

    [Fact]
    public void ASiblingFolderWithTheSamePrefixIsOutside()
    {
        var bundle = Folder("b");
        var sibling = Folder("b2");
        File.WriteAllText(Path.Combine(sibling, "x.onnx"), "x");
        Assert.Throws<UserInputException>(() => ConfinedPath.Resolve(bundle, "../b2/x.onnx", "f"));
    }
}
