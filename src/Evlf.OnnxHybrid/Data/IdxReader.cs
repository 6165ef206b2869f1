using System.Buffers.Binary;
using System.IO.Compression;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Reads MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST...), raw or gzip-compressed (detected from the
/// content, not the name). Images: big-endian magic 2051 (0x00000803: unsigned bytes, 3 dimensions), count,
/// rows, columns, then the pixels. Labels: magic 2049 (0x00000801), count, then one byte per label.
/// </summary>
public static class IdxReader
{
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    /// <summary>
    /// Opens a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte (each optionally .gz). Class names: <paramref name="classNames"/> if given, else
    /// the lines of the folder's classes.txt if present, else the label values "0", "1", ...
    /// </summary>
    public static ImageDataset Open(string directory, IReadOnlyList<string>? classNames = null, string? name = null, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        if (!Directory.Exists(directory)) throw new UserInputException($"IDX folder '{directory}' does not exist.");
        int channels = options.ChannelsOr(1);
        string trainLabels = Find(directory, "train-labels-idx1-ubyte"), testLabels = Find(directory, "t10k-labels-idx1-ubyte");
        var train = ReadSplit("train", Find(directory, "train-images-idx3-ubyte"), trainLabels, channels);
        var test = ReadSplit("test", Find(directory, "t10k-images-idx3-ubyte"), testLabels, channels);

        var classesFile = Path.Combine(directory, "classes.txt");
        classNames ??= ClassNameFile.ReadIfPresent(classesFile)
            ?? Enumerable.Range(0, MaxLabel(train, test) + 1).Select(i => i.ToString()).ToArray();
        CheckLabels(train, trainLabels, classNames.Count);
        CheckLabels(test, testLabels, classNames.Count);
        return new ImageDataset(name ?? $"idx ({directory})", classNames, train, test);
    }

    /// <summary>Reads one image file and its labels file into an in-memory split, checking that their counts agree.</summary>
    public static InMemorySplit ReadSplit(string name, string imagesPath, string labelsPath, int channels = 1)
    {
        var (pixels, count, rows, cols) = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != count)
            throw new UserInputException($"IDX files '{imagesPath}' and '{labelsPath}' disagree: {count} images but {labels.Length} labels.");
        return new InMemorySplit(name, pixels, labels, rows, cols, 1, imagesPath, channels);
    }

    /// <summary>Largest image accepted (rows × cols): as <see cref="ImageDecodeOptions.DefaultMaxPixels"/>, far above any IDX dataset.</summary>
    public const long MaxImagePixels = ImageDecodeOptions.DefaultMaxPixels;

    /// <summary>Reads an idx3-ubyte image file: count × rows × cols bytes.</summary>
    public static (byte[] Pixels, int Count, int Rows, int Cols) ReadImages(string path)
    {
        return WithStream(path, stream =>
        {
            var header = ReadHeader(stream, path, 16, "image");
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != ImagesMagic)
                throw new UserInputException($"IDX file '{path}' starts with magic number {magic}, but an image file must start with {ImagesMagic} (0x00000803).");
            int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            int rows = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
            int cols = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
            // Each factor is checked before the product is formed, so no header can make the arithmetic wrap.
            long pixelsPerImage = (long)rows * cols;
            if (count < 0 || rows <= 0 || cols <= 0 || pixelsPerImage > MaxImagePixels)
                throw new UserInputException($"IDX file '{path}' declares {count} images of {rows}x{cols}, which is not a valid image array; expected a non-negative count and sides whose product is between 1 and {MaxImagePixels}.");
            if (count > 0 && pixelsPerImage > Array.MaxLength / count)
                throw new UserInputException($"IDX file '{path}' declares {count} images of {rows}x{cols}, which is not a valid image array: more than the {Array.MaxLength} bytes one dataset split can hold in memory.");
            long size = count * pixelsPerImage;
            var pixels = ReadBody(stream, size, path, $"{count} images of {rows}x{cols}");
            return (pixels, count, rows, cols);
        });
    }

    /// <summary>Reads an idx1-ubyte labels file.</summary>
    public static int[] ReadLabels(string path)
    {
        return WithStream(path, stream =>
        {
            var header = ReadHeader(stream, path, 8, "labels");
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != LabelsMagic)
                throw new UserInputException($"IDX file '{path}' starts with magic number {magic}, but a labels file must start with {LabelsMagic} (0x00000801).");
            int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            if (count < 0) throw new UserInputException($"IDX file '{path}' declares a negative label count ({count}).");
            var bytes = ReadBody(stream, count, path, $"{count} labels");
            return Array.ConvertAll(bytes, b => (int)b);
        });
    }

    /// <summary>Writes an idx3-ubyte image file (raw; gzip it if you like). Used by tests and tools.</summary>
    public static void WriteImages(string path, byte[] pixels, int count, int rows, int cols)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), cols);
        using var f = File.Create(path);
        f.Write(header);
        f.Write(pixels);
    }

    /// <summary>Writes an idx1-ubyte labels file.</summary>
    public static void WriteLabels(string path, IReadOnlyList<int> labels)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), labels.Count);
        using var f = File.Create(path);
        f.Write(header);
        f.Write(labels.Select(l => checked((byte)l)).ToArray());
    }

    /// <summary>The path of <paramref name="stem"/> in <paramref name="directory"/>, as stem, stem.gz, or with ".idx" for "-idx".</summary>
    internal static string Find(string directory, string stem)
    {
        foreach (var s in new[] { stem, stem.Replace("-idx", ".idx") })
            foreach (var candidate in new[] { s, s + ".gz" })
            {
                var path = Path.Combine(directory, candidate);
                if (PathStatus.Of(path).Kind != PathKind.Missing)
                {
                    PathStatus.RequireFile(path, "IDX file");
                    return path;
                }
            }
        throw new UserInputException(
            $"IDX folder '{directory}' has no {stem} or {stem}.gz; expected train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (optionally .gz).");
    }

    private static void CheckLabels(InMemorySplit split, string labelsPath, int classCount)
    {
        for (int i = 0; i < split.Count; i++)
            if (split.LabelOf(i) >= classCount)
                throw new UserInputException($"IDX labels file '{labelsPath}' has label {split.LabelOf(i)} at index {i}, but there are only {classCount} classes.");
    }

    private static int MaxLabel(InMemorySplit train, InMemorySplit test)
    {
        int max = 0;
        for (int i = 0; i < train.Count; i++) max = Math.Max(max, train.LabelOf(i));
        for (int i = 0; i < test.Count; i++) max = Math.Max(max, test.LabelOf(i));
        return max;
    }

    private static T WithStream<T>(string path, Func<Stream, T> read)
    {
        PathStatus.RequireFile(path, "IDX file");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            bool gz = file.ReadByte() == 0x1F & file.ReadByte() == 0x8B;
            file.Position = 0;
            using Stream stream = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
            return read(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UserInputException($"IDX file '{path}' does not exist.", e);
        }
        catch (InvalidDataException e)
        {
            throw new UserInputException($"IDX file '{path}' is not valid gzip data: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"IDX file '{path}' could not be read: {e.Message}", e);
        }
    }

    private static byte[] ReadHeader(Stream stream, string path, int length, string kind)
    {
        var header = new byte[length];
        int n = stream.ReadAtLeast(header, length, throwOnEndOfStream: false);
        if (n < length)
            throw new UserInputException($"IDX file '{path}' is {n} bytes long, shorter than the {length}-byte header of an IDX {kind} file.");
        return header;
    }

    /// <summary>Chunk in which a body of unknown real length (gzip) is read: memory grows with the data actually there, not with the header's claim.</summary>
    private const int Chunk = 4 << 20;

    /// <summary>
    /// Reads the <paramref name="size"/> bytes a header declares. A raw file's length is known, so a header that promises
    /// more than the file holds is refused before anything is allocated; a gzip stream's is not, so its body is read in
    /// chunks and the full buffer is allocated only once that much data has really arrived.
    /// </summary>
    private static byte[] ReadBody(Stream stream, long size, string path, string what)
    {
        if (size > Array.MaxLength)
            throw new UserInputException($"IDX file '{path}' declares {what} ({size} bytes), more than the {Array.MaxLength} bytes one array can hold.");
        if (stream.CanSeek && size > stream.Length - stream.Position)
            throw new UserInputException($"IDX file '{path}' is truncated: its header declares {what} ({size} bytes) but only {stream.Length - stream.Position} follow.");
        if (stream.CanSeek || size <= Chunk)
        {
            var buffer = new byte[size];
            int n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (n < buffer.Length)
                throw new UserInputException($"IDX file '{path}' is truncated: its header declares {what} ({size} bytes) but only {n} follow.");
            return buffer;
        }
        var chunks = new List<byte[]>();
        long read = 0;
        while (read < size)
        {
            var chunk = new byte[Math.Min(Chunk, size - read)];
            int n = stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            read += n;
            if (n < chunk.Length)
                throw new UserInputException($"IDX file '{path}' is truncated: its header declares {what} ({size} bytes) but only {read} follow.");
            chunks.Add(chunk);
        }
        var body = new byte[size];
        long offset = 0;
        foreach (var c in chunks)
        {
            c.CopyTo(body, offset);
            offset += c.Length;
        }
        return body;
    }
}
