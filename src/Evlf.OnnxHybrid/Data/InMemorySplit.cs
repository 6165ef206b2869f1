using System.Security.Cryptography;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// A split held in memory as one contiguous N×H×W×C byte array with one label per sample (IDX and CIFAR
/// readers produce these; Fashion-MNIST's 60 000 training images take 47 MB).
/// </summary>
public sealed class InMemorySplit : DatasetSplit
{
    private readonly byte[] pixels;
    private readonly int[] labels;
    private readonly int channels;

    /// <param name="name">Split name.</param>
    /// <param name="pixels">N·H·W·C bytes, sample after sample, each HWC; not copied.</param>
    /// <param name="labels">N labels.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="storedChannels">Channels in <paramref name="pixels"/>.</param>
    /// <param name="source">What to call the samples' origin in messages (e.g. the image file's path).</param>
    /// <param name="channels">Channels <see cref="Load"/> returns; null keeps the stored ones.</param>
    public InMemorySplit(string name, byte[] pixels, int[] labels, int height, int width, int storedChannels, string source, int? channels = null)
        : base(name)
    {
        if ((long)labels.Length * height * width * storedChannels != pixels.Length)
            throw new ArgumentException($"{labels.Length} samples of {width}x{height}x{storedChannels} need {(long)labels.Length * height * width * storedChannels} bytes, got {pixels.Length}.");
        this.pixels = pixels;
        this.labels = labels;
        Height = height;
        Width = width;
        StoredChannels = storedChannels;
        this.channels = channels ?? storedChannels;
        Source = source;
    }

    public int Height { get; }
    public int Width { get; }

    /// <summary>Channels as stored; <see cref="Load"/> converts to <see cref="Channels"/> when they differ.</summary>
    public int StoredChannels { get; }

    public string Source { get; }

    public override int Count => labels.Length;
    public override int Channels => channels;
    public override bool InMemory => true;
    public override int LabelOf(int index) => labels[index];
    public override string SourceOf(int index) => $"{Source} #{index}";

    private byte[]? contentHash;

    /// <summary>
    /// The SHA-256 of the shape, labels and every pixel, computed once (the arrays never change): about 0.1 s for
    /// Fashion-MNIST's 47 MB and 0.3 s for CIFAR's 150 MB on one core, small beside any stage it keys.
    /// </summary>
    public override void AppendContentIdentity(IncrementalHash hash)
    {
        if (contentHash is null)
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{labels.Length} {Height} {Width} {StoredChannels} {channels}\n"));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()));
            sha.AppendData(pixels);
            contentHash = sha.GetHashAndReset();
        }
        hash.AppendData(contentHash);
    }

    public override ByteImage Load(int index)
    {
        int size = Height * Width * StoredChannels;
        var copy = new byte[size];
        Buffer.BlockCopy(pixels, index * size, copy, 0, size);
        return new ByteImage(Height, Width, StoredChannels, copy).WithChannels(channels);
    }
}
