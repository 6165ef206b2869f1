using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>
/// Seeded mutations of small valid files give a <see cref="UserInputException"/> or a
/// dataset, never another exception, a hang or a huge allocation. Every case is decoded to the last sample, so
/// lazily read files are exercised too.
/// </summary>
public class ReaderFuzzTests
{
    const int Seed = 16;

    static void LoadEverything(ImageDataset dataset)
    {
        foreach (var split in new[] { dataset.Train, dataset.Test })
            for (int i = 0; i < split.Count; i++) split.Load(i);
    }

    [Fact]
    public void IdxFilesRawAndGzip()
    {
        using var dir = new TempDir();
        var pixels = Enumerable.Range(0, 6 * 4 * 4).Select(i => (byte)i).ToArray();
        var images = dir.Combine("valid-images");
        var labels = dir.Combine("valid-labels");
        IdxReader.WriteImages(images, pixels, 6, 4, 4);
        IdxReader.WriteLabels(labels, [0, 1, 2, 0, 1, 2]);
        var valid = new[] { File.ReadAllBytes(images), File.ReadAllBytes(labels) };
        var gzipped = valid.Select(Gzip).ToArray();

        var random = new Random(Seed);
        int caught = 0;
        const int cases = 240;
        for (int i = 0; i < cases; i++)
        {
            bool gz = i % 3 == 2;
            int which = random.Next(2);
            var files = (gz ? gzipped : valid).ToArray();
            // Gzip: mutate the decompressed body (so headers lie inside valid gzip) or the compressed bytes.
            files[which] = gz && random.Next(2) == 0 ? Gzip(Fuzz.Mutate(valid[which], random, 16)) : Fuzz.Mutate(files[which], random, 16);
            var folder = dir.Combine($"case{i}");
            Directory.CreateDirectory(folder);
            foreach (var split in new[] { "train", "t10k" })
            {
                File.WriteAllBytes(Path.Combine(folder, $"{split}-images-idx3-ubyte"), files[0]);
                File.WriteAllBytes(Path.Combine(folder, $"{split}-labels-idx1-ubyte"), files[1]);
            }
            if (Fuzz.Check("IDX", i, () => LoadEverything(IdxReader.Open(folder)))) caught++;
        }
        Assert.True(caught > cases / 2, $"only {caught} of {cases} mutated IDX files were refused");
    }

    [Fact]
    public void CifarBatches()
    {
        using var dir = new TempDir();
        var record = new byte[1 + 3072];
        var random = new Random(Seed);
        random.NextBytes(record);
        record[0] = 3;
        var batch = record.Concat(record).ToArray();

        int caught = 0;
        const int cases = 120;
        for (int i = 0; i < cases; i++)
        {
            var folder = dir.Combine($"case{i}");
            Directory.CreateDirectory(folder);
            int broken = random.Next(6);
            for (int b = 0; b < 6; b++)
            {
                var name = b < 5 ? $"data_batch_{b + 1}.bin" : "test_batch.bin";
                // The label byte is the header here; sizes come from the file length.
                File.WriteAllBytes(Path.Combine(folder, name), b == broken ? Fuzz.Mutate(batch, random, 4) : batch);
            }
            if (Fuzz.Check("CIFAR", i, () => LoadEverything(CifarReader.OpenCifar10(folder)))) caught++;
        }
        Assert.True(caught > cases / 3, $"only {caught} of {cases} mutated CIFAR batches were refused");
    }

    [Fact]
    public void ImageFolders()
    {
        using var dir = new TempDir();
        var png = ImageCodec.EncodePng(TestImages.Pattern(6, 5, 3));
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Pattern(6, 5, 3));
        var random = new Random(Seed);
        int caught = 0;
        const int cases = 100;
        for (int i = 0; i < cases; i++)
        {
            var root = dir.Combine($"case{i}");
            foreach (var split in new[] { "train", "val" })
                foreach (var c in new[] { "a", "b" })
                {
                    dir.Write($"case{i}/{split}/{c}/0.png", png);
                    dir.Write($"case{i}/{split}/{c}/1.jpg", jpeg);
                }
            var victim = $"case{i}/{(random.Next(2) == 0 ? "train" : "val")}/{(random.Next(2) == 0 ? "a" : "b")}/{(random.Next(2) == 0 ? "0.png" : "1.jpg")}";
            dir.Write(victim, Fuzz.Mutate(victim.EndsWith(".png") ? png : jpeg, random, 40));
            if (Fuzz.Check("image folder", i, () => LoadEverything(ImageFolderReader.Open(root)))) caught++;
        }
        Assert.True(caught > cases / 4, $"only {caught} of {cases} mutated images were refused");
    }

    [Fact]
    public void PngAndJpegDecoding()
    {
        var sources = new[]
        {
            ImageCodec.EncodePng(TestImages.Pattern(9, 7, 3)),
            ImageCodec.EncodePng(TestImages.Pattern(9, 7, 1)),
            ImageCodec.EncodeJpeg(TestImages.Pattern(9, 7, 3)),
            TestImages.Bmp24(TestImages.Pattern(5, 3, 3)),
        };
        var random = new Random(Seed);
        int caught = 0;
        const int cases = 400;
        for (int i = 0; i < cases; i++)
        {
            var bytes = Fuzz.Mutate(sources[i % sources.Length], random, 48);
            int channels = random.Next(2) == 0 ? 1 : 3;
            if (Fuzz.Check("image decode", i, () => ImageCodec.Decode(bytes, $"case{i}", channels, new ImageDecodeOptions(MaxPixels: 1 << 20)))) caught++;
        }
        Assert.True(caught > cases / 4, $"only {caught} of {cases} mutated images were refused");
    }

    [Fact]
    public void SyntheticSetManifests()
    {
        using var dir = new TempDir();
        var png = ImageCodec.EncodePng(TestImages.Pattern(4, 4, 1));
        const string manifest = """{"imageSet":{"format":"evlf-image-set/1","channels":1,"classes":[{"label":0,"name":"a","folder":"a","count":2},{"label":1,"name":"b","folder":"b","count":1}]}}""";
        var valid = System.Text.Encoding.UTF8.GetBytes(manifest);
        var random = new Random(Seed);
        const int cases = 150;
        for (int i = 0; i < cases; i++)
        {
            dir.Write($"case{i}/images/a/0.png", png);
            dir.Write($"case{i}/images/a/1.png", png);
            dir.Write($"case{i}/images/b/0.png", png);
            dir.Write($"case{i}/manifest.json", Fuzz.Mutate(valid, random, valid.Length));
            var root = dir.Combine($"case{i}");
            Fuzz.Check("synthetic set", i, () => LoadEverything(SyntheticSetReader.Open(root)));
        }
    }

    static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(data);
        return output.ToArray();
    }
}
