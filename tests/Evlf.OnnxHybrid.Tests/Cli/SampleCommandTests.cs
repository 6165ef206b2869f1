using Evlf.OnnxHybrid.Tests.Bundles;

namespace Evlf.OnnxHybrid.Tests.Cli;

public class SampleCommandTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-sample-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void SamplesEveryClassDeterministically()
    {
        var bundle = TinyBundle.Create(Path.Combine(root, "bundle"));
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        var ra = EvlfProcess.Run("sample", "--bundle", bundle, "--denoiser", "dit", "--n", "2", "--steps", "5", "--seed", "3", "--out", a, "--quiet");
        Assert.True(ra.ExitCode == 0, ra.Stderr);
        var rb = EvlfProcess.Run("sample", "--bundle", bundle, "--denoiser", "dit", "--n", "2", "--steps", "5", "--seed", "3", "--out", b, "--quiet");
        Assert.Equal(0, rb.ExitCode);
        foreach (var cls in new[] { "a", "b", "c" })
        {
            var files = Directory.GetFiles(Path.Combine(a, "images", cls)).Select(Path.GetFileName).OrderBy(f => f).ToArray();
            Assert.Equal(2, files.Length);
            foreach (var f in files)
                Assert.Equal(File.ReadAllBytes(Path.Combine(a, "images", cls, f!)), File.ReadAllBytes(Path.Combine(b, "images", cls, f!)));
        }
        Assert.True(File.Exists(Path.Combine(a, "manifest.json")));
    }

    [Fact]
    public void BadOptionsAreExitTwo()
    {
        var bundle = TinyBundle.Create(Path.Combine(root, "bundle"));
        Assert.Contains("'zebra'", EvlfProcess.AssertUserError(EvlfProcess.Run("sample", "--bundle", bundle, "--class", "zebra", "--out", Path.Combine(root, "x"))));
        Assert.Contains("'unet'", EvlfProcess.AssertUserError(EvlfProcess.Run("sample", "--bundle", bundle, "--denoiser", "unet", "--out", Path.Combine(root, "x"))));
        EvlfProcess.AssertUserError(EvlfProcess.Run("sample", "--bundle", bundle, "--n", "0"));
        EvlfProcess.AssertUserError(EvlfProcess.Run("sample", "--bundle", Path.Combine(root, "nope")));
    }
}
