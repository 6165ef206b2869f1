using System.IO.Compression;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>`evlf inspect --data`: the real Fashion-MNIST, and each kind of bad input giving exit 2 and one sentence.</summary>
public class InspectDataCommandTests
{
    [Fact]
    public void FashionMnistHasTheExpectedSplits()
    {
        var r = EvlfProcess.Run("inspect", "--data", "fashion-mnist", "--quiet");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("train: 60000 samples decoded of 60000, 0 skipped", r.Stdout);
        Assert.Contains("test: 10000 samples decoded of 10000, 0 skipped", r.Stdout);
        foreach (var name in FashionMnist.ClassNames) Assert.Contains(name, r.Stdout);
        Assert.Equal(10, r.Stdout.Split('\n').Count(l => l.Contains("6000") && l.Contains("1000")));
    }

    static string Folder(string root, Action<string, string> populate)
    {
        foreach (var split in new[] { "train", "val" })
            foreach (var cls in new[] { "cat", "dog" })
            {
                var dir = Path.Combine(root, split, cls);
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, "ok.png"), ImageCodec.EncodePng(new ByteImage(4, 4, 3)));
            }
        populate(Path.Combine(root, "train", "cat"), Path.Combine(root, "val", "dog"));
        return root;
    }

    [Fact]
    public void BadImagesNameTheFileOrAreSkippedOnRequest()
    {
        var root = Directory.CreateTempSubdirectory("evlf-data-").FullName;
        try
        {
            Folder(root, (trainCat, valDog) =>
            {
                var png = ImageCodec.EncodePng(new ByteImage(16, 16, 3));
                File.WriteAllBytes(Path.Combine(trainCat, "truncated.png"), png[..(png.Length / 2)]);
                File.WriteAllBytes(Path.Combine(valDog, "empty.jpg"), Array.Empty<byte>());
            });
            var line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--data", "folder:" + root, "--quiet"));
            Assert.Contains("truncated.png", line);

            var skipped = EvlfProcess.Run("inspect", "--data", "folder:" + root, "--skip-bad", "--quiet");
            Assert.Equal(0, skipped.ExitCode);
            Assert.Contains("1 skipped", skipped.Stdout);
            Assert.Contains("empty.jpg", skipped.Stdout);
        }
        finally { Directory.Delete(root, true); }
    }

    static void WriteIdx(string path, int magic, int count, int rows = 0, int cols = 0)
    {
        using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        void Int(int v) { var b = BitConverter.GetBytes(v); Array.Reverse(b); gz.Write(b); }
        Int(magic); Int(count);
        if (rows > 0) { Int(rows); Int(cols); }
        gz.Write(new byte[count * Math.Max(rows * cols, 1)]);
    }

    [Fact]
    public void BadIdxFilesNameTheFileAndTheProblem()
    {
        var dir = Directory.CreateTempSubdirectory("evlf-idx-").FullName;
        try
        {
            WriteIdx(Path.Combine(dir, "train-images-idx3-ubyte.gz"), 2051, 5, 28, 28);
            WriteIdx(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), 2049, 4);
            WriteIdx(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), 2051, 3, 28, 28);
            WriteIdx(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), 2049, 3);
            var mismatch = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--data", "idx:" + dir, "--quiet"));
            Assert.Contains("train-", mismatch);

            WriteIdx(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), 2049, 5);
            WriteIdx(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), 1234, 3, 28, 28);
            var magic = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--data", "idx:" + dir, "--quiet"));
            Assert.Contains("t10k-images-idx3-ubyte.gz", magic);
            Assert.Contains("magic", magic);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownSpecsAndMissingFoldersAreUserErrors()
    {
        EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--data", "mnist-please"));
        EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--data", "folder:/no/such/dir"));
        EvlfProcess.AssertUserError(EvlfProcess.Run("inspect"));
    }
}
