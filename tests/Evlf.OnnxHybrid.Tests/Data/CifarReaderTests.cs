using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

public class CifarReaderTests
{
    /// <summary>One record: label bytes, then R plane = 1, G plane = 2·(p mod 100), B plane = seed.</summary>
    private static byte[] Record(byte[] labels, byte seed)
    {
        var r = new byte[labels.Length + 3072];
        labels.CopyTo(r, 0);
        for (int p = 0; p < 1024; p++)
        {
            r[labels.Length + p] = 1;
            r[labels.Length + 1024 + p] = (byte)(2 * (p % 100));
            r[labels.Length + 2048 + p] = seed;
        }
        return r;
    }

    private static void WriteCifar10(string dir, int perBatch = 2)
    {
        Directory.CreateDirectory(dir);
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"),
                Enumerable.Range(0, perBatch).SelectMany(i => Record([(byte)((b + i) % 10)], (byte)(10 * b + i))).ToArray());
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Enumerable.Range(0, 3).SelectMany(i => Record([(byte)i], 200)).ToArray());
    }

    [Fact]
    public void Cifar10PlanesBecomeHwcAndBatchesConcatenate()
    {
        using var dir = new TempDir();
        WriteCifar10(dir.Combine("cifar-10-batches-bin"));
        var ds = CifarReader.OpenCifar10(dir.Path);
        Assert.Equal(CifarReader.Cifar10ClassNames, ds.ClassNames);
        Assert.Equal(10, ds.Train.Count);
        Assert.Equal(3, ds.Test.Count);
        Assert.Equal([1, 2, 2, 3, 3, 4, 4, 5, 5, 6], ds.Train.Labels());
        var img = ds.Train.Load(3); // batch 2, record 1 → blue = 21
        Assert.Equal((32, 32, 3), (img.Height, img.Width, img.Channels));
        Assert.Equal(1, img[5, 7, 0]);
        Assert.Equal((byte)(2 * ((5 * 32 + 7) % 100)), img[5, 7, 1]);
        Assert.Equal(21, img[5, 7, 2]);
    }

    [Fact]
    public void Cifar10NamesComeFromBatchesMeta()
    {
        using var dir = new TempDir();
        WriteCifar10(dir.Path);
        File.WriteAllLines(dir.Combine("batches.meta.txt"), ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck", ""]);
        Assert.Equal("car", CifarReader.OpenCifar10(dir.Path).ClassNames[1]);
        File.WriteAllLines(dir.Combine("batches.meta.txt"), ["plane", "car"]);
        var e = Assert.Throws<UserInputException>(() => CifarReader.OpenCifar10(dir.Path));
        Assert.Contains("batches.meta.txt' lists 2 names; expected 10", e.Message);
    }

    [Fact]
    public void Cifar100UsesTheFineLabel()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("train.bin"), [.. Record([3, 77], 1), .. Record([19, 99], 2)]);
        File.WriteAllBytes(dir.Combine("test.bin"), Record([0, 5], 3));
        var ds = CifarReader.OpenCifar100(dir.Path, new DatasetOptions(Channels: 1));
        Assert.Equal(100, ds.ClassCount);
        Assert.Equal("worm", ds.ClassNames[99]);
        Assert.Equal([77, 99], ds.Train.Labels());
        Assert.Equal(1, ds.Train.Load(0).Channels);
    }

    [Fact]
    public void TruncatedBatchIsReportedWithItsName()
    {
        using var dir = new TempDir();
        WriteCifar10(dir.Path);
        var f = dir.Combine("data_batch_3.bin");
        File.WriteAllBytes(f, File.ReadAllBytes(f)[..5000]);
        var e = Assert.Throws<UserInputException>(() => CifarReader.OpenCifar10(dir.Path));
        Assert.Contains($"'{f}' is 5000 bytes, not a positive multiple of the 3073-byte record", e.Message);
    }

    [Fact]
    public void MissingBatchAndWrongFolderAreReported()
    {
        using var dir = new TempDir();
        WriteCifar10(dir.Path);
        File.Delete(dir.Combine("data_batch_4.bin"));
        Assert.Contains("data_batch_4.bin' is missing", Assert.Throws<UserInputException>(() => CifarReader.OpenCifar10(dir.Path)).Message);
        using var empty = new TempDir();
        var e = Assert.Throws<UserInputException>(() => CifarReader.OpenCifar100(empty.Path));
        Assert.Contains("has no train.bin (nor cifar-100-binary/train.bin)", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeIsReported()
    {
        using var dir = new TempDir();
        WriteCifar10(dir.Path);
        File.WriteAllBytes(dir.Combine("test_batch.bin"), [.. Record([1], 0), .. Record([12], 0)]);
        var e = Assert.Throws<UserInputException>(() => CifarReader.OpenCifar10(dir.Path));
        Assert.Contains("test_batch.bin' has label 12 in record 1", e.Message);
    }
}
