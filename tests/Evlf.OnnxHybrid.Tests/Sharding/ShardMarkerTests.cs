using Evlf.OnnxHybrid.Sharding;

namespace Evlf.OnnxHybrid.Tests.Sharding;

public class ShardMarkerTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-marker-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    string Part()
    {
        string dir = Directory.CreateDirectory(Path.Combine(root, Guid.NewGuid().ToString("N"))).FullName;
        Directory.CreateDirectory(Path.Combine(dir, "set", "a"));
        File.WriteAllText(Path.Combine(dir, "set", "a", "0.png"), "image");
        File.WriteAllBytes(Path.Combine(dir, "latents.safetensors"), [1, 2, 3]);
        ShardMarker.Write(dir, "sample-0123456789abcdef", 1, 4);
        return dir;
    }

    [Fact]
    public void AMarkerHoldsForItsStagePartAndFilesOnly()
    {
        string dir = Part();
        Assert.True(ShardMarker.IsValid(dir, "sample-0123456789abcdef", 1, 4));
        Assert.False(ShardMarker.IsValid(dir, "sample-fedcba9876543210", 1, 4));
        Assert.False(ShardMarker.IsValid(dir, "sample-0123456789abcdef", 2, 4));
        Assert.False(ShardMarker.IsValid(dir, "sample-0123456789abcdef", 1, 3));
    }

    [Theory]
    [InlineData("change")]
    [InlineData("add")]
    [InlineData("remove")]
    [InlineData("rename")]
    [InlineData("marker")]
    public void AnyChangeToThePartsFilesInvalidatesIt(string change)
    {
        string dir = Part();
        string file = Path.Combine(dir, "set", "a", "0.png");
        switch (change)
        {
            case "change": File.WriteAllText(file, "imagE"); break;
            case "add": File.WriteAllText(Path.Combine(dir, "extra"), ""); break;
            case "remove": File.Delete(file); break;
            case "rename": File.Move(file, Path.Combine(dir, "set", "a", "1.png")); break;
            case "marker": File.WriteAllText(Path.Combine(dir, ShardMarker.FileName), "{not json"); break;
        }
        Assert.False(ShardMarker.IsValid(dir, "sample-0123456789abcdef", 1, 4));
    }
}
