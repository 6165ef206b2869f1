using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Tests.Bundles;

/// <summary>Generation in one call: images in memory, deterministic per class and seed, and saved without replacing anything.</summary>
public class GenerateTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-generate-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void ImagesAreDeterministicPerClassAndSeedAndSavedOnce()
    {
        var bundle = ModelBundle.Load(TinyBundle.Create(Path.Combine(root, "bundle")));
        using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu));
        var options = new SampleOptions(Steps: 2, Cfg: 2);
        var reports = new List<WorkProgress>();
        var three = runtime.Generate("dit", 1, 3, options, seed: 5, new InlineProgress<WorkProgress>(reports.Add));
        Assert.Equal(bundle.Manifest.Classes[1], three.ClassName);
        Assert.Equal(Evlf.OnnxHybrid.Data.ClassFolderNames.Assign(bundle.Manifest.Classes)[1], three.Folder);
        Assert.Equal(3, three.Images.Count);
        Assert.Equal([1.0, 2.0, 2.0], reports.Select(p => p.Done));   // counts the steps up, then the call's end
        Assert.All(three.Images, image => Assert.Equal(bundle.Manifest.Image.Size, image.Width));

        // The same seed gives the same images, another seed others.
        var again = runtime.Generate("dit", 1, 3, options, seed: 5);
        for (int i = 0; i < 3; i++) Assert.Equal(three.Images[i].Pixels, again.Images[i].Pixels);
        Assert.NotEqual(three.Images[0].Pixels, runtime.Generate("dit", 1, 3, options, seed: 6).Images[0].Pixels);
        // One call at a time gives the same images in the same order.
        Assert.Equal(three.Images.Select(i => i.Pixels), runtime.GenerateEach("dit", 1, 3, options, seed: 5).Select(i => i.Pixels));
        var two = runtime.Generate("dit", 1, 2, options, seed: 5);

        var paths = three.Save(Path.Combine(root, "out"));
        Assert.Equal(3, paths.Count);
        Assert.Equal(three.Images[2].Pixels, ImageCodec.Decode(paths[2], bundle.Manifest.Image.Channels).Pixels);
        var before = File.ReadAllBytes(paths[0]);
        var e = Assert.Throws<UserInputException>(() => two.Save(Path.Combine(root, "out")));
        Assert.Contains("0.png", e.Message);
        Assert.Equal(before, File.ReadAllBytes(paths[0]));
        Assert.Equal(3, Directory.GetFiles(Path.GetDirectoryName(paths[0])!).Length);   // no temporary left behind
    }

    [Fact]
    public void AClassNameWithASlashIsSavedInItsSafeFolder()
    {
        var images = new GeneratedImages("T-shirt/top", Evlf.OnnxHybrid.Data.ClassFolderNames.Assign(["T-shirt/top"])[0], [new ByteImage(2, 2, 1)]);
        var path = Assert.Single(images.Save(Path.Combine(root, "slash")));
        Assert.Equal(Path.Combine(root, "slash"), Path.GetDirectoryName(Path.GetDirectoryName(path)));
        Assert.Throws<ArgumentException>(() => (images with { Folder = "../x" }).Save(Path.Combine(root, "escape")));
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        var bundle = ModelBundle.Load(TinyBundle.Create(Path.Combine(root, "bundle")));
        using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu));
        Assert.Throws<ArgumentOutOfRangeException>(() => runtime.Generate("dit", bundle.Manifest.Classes.Count, 1, new SampleOptions(Steps: 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => runtime.Generate("dit", 0, 0, new SampleOptions(Steps: 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => runtime.GenerateEach("dit", 0, 0, new SampleOptions(Steps: 2)));   // before enumeration
        Assert.Equal("SampleOptions.Cfg", Assert.Throws<UserInputException>(() => runtime.Generate("dit", 0, 1, new SampleOptions(Steps: 2, Cfg: 0))).Option);
    }
}
