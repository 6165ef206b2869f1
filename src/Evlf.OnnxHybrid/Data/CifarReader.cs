namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100 (Krizhevsky, 2009). Each record is the label byte(s)
/// then 3072 pixel bytes: the 1024 red values of the 32×32 image row by row, then green, then blue.
/// CIFAR-10: data_batch_1.bin … data_batch_5.bin and test_batch.bin, one label byte, names in batches.meta.txt.
/// CIFAR-100: train.bin and test.bin, a coarse then a fine label byte (the fine label is used), names in
/// fine_label_names.txt. The folder may be the one holding these files or its parent (cifar-10-batches-bin,
/// cifar-100-binary). All data is read into memory (180 MB for either).
/// </summary>
public static class CifarReader
{
    private const int Side = 32;
    private const int PixelBytes = Side * Side * 3;

    /// <summary>CIFAR-10's class names, used when batches.meta.txt is absent.</summary>
    public static IReadOnlyList<string> Cifar10ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>CIFAR-100's fine class names in label order, used when fine_label_names.txt is absent.</summary>
    public static IReadOnlyList<string> Cifar100ClassNames { get; } =
    [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ];

    /// <summary>Opens CIFAR-10 (binary version) from <paramref name="directory"/> or its cifar-10-batches-bin subfolder.</summary>
    public static ImageDataset OpenCifar10(string directory, DatasetOptions? options = null)
    {
        var dir = Resolve(directory, "cifar-10-batches-bin", "data_batch_1.bin", "CIFAR-10",
            "data_batch_1.bin … data_batch_5.bin and test_batch.bin");
        var trainFiles = Enumerable.Range(1, 5).Select(i => Require(dir, $"data_batch_{i}.bin", "CIFAR-10")).ToArray();
        var testFile = Require(dir, "test_batch.bin", "CIFAR-10");
        var names = ClassNamesFrom(Path.Combine(dir, "batches.meta.txt"), Cifar10ClassNames);
        int channels = (options ?? DatasetOptions.Default).ChannelsOr(3);
        var train = ReadSplit("train", trainFiles, labelBytes: 1, names.Count, channels);
        var test = ReadSplit("test", [testFile], labelBytes: 1, names.Count, channels);
        return new ImageDataset($"cifar10 ({dir})", names, train, test);
    }

    /// <summary>Opens CIFAR-100 (binary version, fine labels) from <paramref name="directory"/> or its cifar-100-binary subfolder.</summary>
    public static ImageDataset OpenCifar100(string directory, DatasetOptions? options = null)
    {
        var dir = Resolve(directory, "cifar-100-binary", "train.bin", "CIFAR-100", "train.bin and test.bin");
        var names = ClassNamesFrom(Path.Combine(dir, "fine_label_names.txt"), Cifar100ClassNames);
        int channels = (options ?? DatasetOptions.Default).ChannelsOr(3);
        var train = ReadSplit("train", [Require(dir, "train.bin", "CIFAR-100")], labelBytes: 2, names.Count, channels);
        var test = ReadSplit("test", [Require(dir, "test.bin", "CIFAR-100")], labelBytes: 2, names.Count, channels);
        return new ImageDataset($"cifar100 ({dir})", names, train, test);
    }

    /// <summary>
    /// Reads record files into one in-memory split. The label used is the last label byte of each record
    /// (CIFAR-10's only one, CIFAR-100's fine one).
    /// </summary>
    public static InMemorySplit ReadSplit(string name, IReadOnlyList<string> files, int labelBytes, int classCount, int channels = 3)
    {
        int record = labelBytes + PixelBytes;
        long totalRecords = 0;
        foreach (var f in files)
        {
            long length = PathStatus.RequireFile(f, "CIFAR file").Size;
            if (length == 0 || length % record != 0)
                throw new UserInputException(
                    $"CIFAR file '{f}' is {length} bytes, not a positive multiple of the {record}-byte record ({labelBytes} label byte(s) + 32x32x3 pixels); it is truncated or not the binary version.");
            totalRecords += length / record;
        }
        if (totalRecords > Array.MaxLength / PixelBytes)
            throw new UserInputException(
                $"CIFAR files {string.Join(", ", files.Select(f => $"'{f}'"))} hold {totalRecords} records, more than the {Array.MaxLength / PixelBytes} one split can hold in memory.");
        var pixels = new byte[totalRecords * PixelBytes];
        var labels = new int[totalRecords];
        int n = 0;
        var buffer = new byte[record];
        foreach (var f in files)
        {
            try
            {
                n = ReadRecords(f, buffer, labelBytes, classCount, pixels, labels, n);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"CIFAR file '{f}' could not be read: {e.Message}", e);
            }
        }
        // A file that shrank after it was measured would leave blank records behind.
        if (n != totalRecords)
            throw new UserInputException($"CIFAR files {string.Join(", ", files.Select(f => $"'{f}'"))} changed while they were read ({n} records read, {totalRecords} expected).");
        return new InMemorySplit(name, pixels, labels, Side, Side, 3, files.Count == 1 ? files[0] : Path.GetDirectoryName(files[0])!, channels);
    }

    /// <summary>Reads the records of file <paramref name="f"/> into slots <paramref name="n"/>…; returns the next free slot.</summary>
    private static int ReadRecords(string f, byte[] buffer, int labelBytes, int classCount, byte[] pixels, int[] labels, int n)
    {
        int record = buffer.Length;
        using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        int inFile = 0;
        while (n < labels.Length && stream.ReadAtLeast(buffer, record, throwOnEndOfStream: false) == record)
        {
            int label = buffer[labelBytes - 1];
            if (label >= classCount)
                throw new UserInputException($"CIFAR file '{f}' has label {label} in record {inFile}, but there are only {classCount} classes.");
            labels[n] = label;
            // CHW planes → HWC.
            int dst = n * PixelBytes;
            for (int p = 0; p < Side * Side; p++)
            {
                pixels[dst + 3 * p] = buffer[labelBytes + p];
                pixels[dst + 3 * p + 1] = buffer[labelBytes + Side * Side + p];
                pixels[dst + 3 * p + 2] = buffer[labelBytes + 2 * Side * Side + p];
            }
            n++;
            inFile++;
        }
        return n;
    }

    private static string Resolve(string directory, string subfolder, string marker, string dataset, string expected)
    {
        if (!Directory.Exists(directory)) throw new UserInputException($"{dataset} folder '{directory}' does not exist.");
        if (File.Exists(Path.Combine(directory, marker))) return directory;
        var sub = Path.Combine(directory, subfolder);
        if (File.Exists(Path.Combine(sub, marker))) return sub;
        throw new UserInputException(
            $"{dataset} folder '{directory}' has no {marker} (nor {subfolder}/{marker}); expected the binary version's {expected}.");
    }

    private static string Require(string dir, string file, string dataset)
    {
        var path = Path.Combine(dir, file);
        if (PathStatus.Of(path).Kind == PathKind.Missing) throw new UserInputException($"{dataset} file '{path}' is missing.");
        PathStatus.RequireFile(path, $"{dataset} file");
        return path;
    }

    private static IReadOnlyList<string> ClassNamesFrom(string path, IReadOnlyList<string> defaults)
    {
        var names = ClassNameFile.ReadIfPresent(path);
        if (names is null) return defaults;
        if (names.Length != defaults.Count)
            throw new UserInputException($"Class-name file '{path}' lists {names.Length} names; expected {defaults.Count}, one per line.");
        return names;
    }
}
