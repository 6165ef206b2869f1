using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Evlf.OnnxHybrid.Data;

/// <summary>A split of image files decoded on each <see cref="Load"/> (image folders, ImageNet subsets, synthetic sets).</summary>
public sealed class ImageFileSplit : DatasetSplit
{
    private readonly string[] paths;
    private readonly int[] labels;
    private readonly ImageDecodeOptions decode;

    public ImageFileSplit(string name, IReadOnlyList<string> paths, IReadOnlyList<int> labels, int channels, ImageDecodeOptions? decode = null)
        : base(name)
    {
        if (paths.Count != labels.Count) throw new ArgumentException($"{paths.Count} paths but {labels.Count} labels.");
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be 1 or 3, got {channels}.");
        this.paths = paths.ToArray();
        this.labels = labels.ToArray();
        this.decode = decode ?? ImageDecodeOptions.Default;
        Channels = channels;
    }

    public override int Count => paths.Length;
    public override int Channels { get; }
    public override bool InMemory => false;
    public override int LabelOf(int index) => labels[index];
    public override string SourceOf(int index) => paths[index];

    /// <summary>The file of sample <paramref name="index"/>.</summary>
    public string PathOf(int index) => paths[index];

    public override ByteImage Load(int index) => ImageCodec.Decode(paths[index], Channels, decode);

    /// <summary>
    /// Each file's path, label, size and modification time in nanoseconds: one <c>stat</c> a file (60 000 files take
    /// well under a second), so rewriting an image in place changes the identity without reading any pixels.
    /// </summary>
    public override void AppendContentIdentity(IncrementalHash hash)
    {
        Span<byte> stamp = stackalloc byte[20];
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{paths.Length} {Channels}\n"));
        for (int i = 0; i < paths.Length; i++)
        {
            var status = PathStatus.Of(paths[i]);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(paths[i] + "\n"));
            BinaryPrimitives.WriteInt32LittleEndian(stamp, labels[i]);
            BinaryPrimitives.WriteInt64LittleEndian(stamp[4..], status.Kind == PathKind.Regular ? status.Size : -1);
            BinaryPrimitives.WriteInt64LittleEndian(stamp[12..], status.ModifiedNanoseconds);
            hash.AppendData(stamp);
        }
    }
}
