using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Distillation;

/// <summary>
/// The data identity that keys the stage cache changes when the data's content changes, not
/// only when its file names do; rewriting images in place must not reuse stages cached for the old ones.
/// </summary>
public sealed class DataIdentityTests : IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    string Folder()
    {
        foreach (var split in new[] { "train", "val" })
            foreach (var c in new[] { "a", "b" })
                for (int i = 0; i < 2; i++) dir.Write($"data/{split}/{c}/{i}.png", ImageCodec.EncodePng(TestImages.Pattern(8, 8, 3, seed: i)));
        return dir.Combine("data");
    }

    static string Id(string spec) => DataIdentity.Of(spec, DataSpec.Parse(spec).Open());

    [Fact]
    public void TheSameFolderGivesTheSameIdentity()
    {
        var spec = $"folder:{Folder()}";
        Assert.Equal(Id(spec), Id(spec));
    }

    [Fact]
    public void RewritingAnImageInPlaceChangesTheIdentity()
    {
        var spec = $"folder:{Folder()}";
        var before = Id(spec);
        var image = dir.Combine("data", "train", "a", "1.png");
        File.WriteAllBytes(image, ImageCodec.EncodePng(TestImages.Constant(8, 8, 3, 200)));
        Assert.NotEqual(before, Id(spec));
    }

    [Fact]
    public void ANewerFileOfTheSameSizeChangesTheIdentity()
    {
        var spec = $"folder:{Folder()}";
        var before = Id(spec);
        var image = dir.Combine("data", "train", "b", "0.png");
        var bytes = File.ReadAllBytes(image);
        File.WriteAllBytes(image, bytes);
        File.SetLastWriteTimeUtc(image, File.GetLastWriteTimeUtc(image).AddSeconds(5));
        Assert.NotEqual(before, Id(spec));
    }

    [Fact]
    public void IdxContentIsHashedSoEvenASameSizeSameTimeRewriteCounts()
    {
        var pixels = Enumerable.Range(0, 4 * 3 * 3).Select(i => (byte)i).ToArray();
        foreach (var split in new[] { "train", "t10k" })
        {
            IdxReader.WriteImages(dir.Combine($"{split}-images-idx3-ubyte"), pixels, 4, 3, 3);
            IdxReader.WriteLabels(dir.Combine($"{split}-labels-idx1-ubyte"), [0, 1, 0, 1]);
        }
        var spec = $"idx:{dir.Path}";
        var before = Id(spec);

        var path = dir.Combine("train-images-idx3-ubyte");
        var stamp = File.GetLastWriteTimeUtc(path);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, stamp);
        Assert.NotEqual(before, Id(spec));
    }
}
