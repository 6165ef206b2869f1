using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>What a path is, told without opening it (.NET reports FIFOs and devices as plain files).</summary>
public class PathStatusTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-status-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void KindsSizesAndTimesAreReported()
    {
        var file = Path.Combine(root, "a.bin");
        File.WriteAllBytes(file, new byte[123]);
        var stamp = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(file, stamp);
        var status = PathStatus.Of(file);
        Assert.Equal((PathKind.Regular, 123L), (status.Kind, status.Size));
        Assert.Equal((stamp - DateTime.UnixEpoch).Ticks * 100, status.ModifiedNanoseconds);

        Assert.Equal(PathKind.Directory, PathStatus.Of(root).Kind);
        Assert.Equal(PathKind.Missing, PathStatus.Of(Path.Combine(root, "none")).Kind);

        var link = Path.Combine(root, "link");
        File.CreateSymbolicLink(link, file);
        Assert.Equal(PathKind.Link, PathStatus.Of(link, followLinks: false).Kind);
        Assert.Equal(PathKind.Regular, PathStatus.Of(link).Kind);
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), Path.Combine(root, "none"));
        Assert.Equal(PathKind.Missing, PathStatus.Of(Path.Combine(root, "dangling")).Kind);
    }

    [Fact]
    public void FifosAndDevicesAreSpecial()
    {
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(root, "x.png");
        SpecialFiles.MakeFifo(fifo);
        Assert.Equal(PathKind.Special, PathStatus.Of(fifo).Kind);
        Assert.Equal(PathKind.Special, PathStatus.Of("/dev/null").Kind);
        Assert.Contains("FIFO", Assert.Throws<UserInputException>(() => PathStatus.RequireFile(fifo, "Image file")).Message);
    }
}
