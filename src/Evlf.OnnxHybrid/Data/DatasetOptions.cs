namespace Evlf.OnnxHybrid.Data;

/// <summary>How readers present a dataset.</summary>
/// <param name="Channels">
/// Channels of the loaded images (1 or 3); null keeps the dataset's own: 1 for IDX, 3 for CIFAR and image
/// folders, what the manifest says for synthetic sets. Gray→RGB repeats the channel; RGB→gray uses ITU-R 601 luma.
/// </param>
/// <param name="Decode">Limits for decoding image files (pixel-count cap).</param>
public sealed record DatasetOptions(int? Channels = null, ImageDecodeOptions? Decode = null)
{
    public static DatasetOptions Default { get; } = new();

    internal int ChannelsOr(int datasetDefault)
    {
        int c = Channels ?? datasetDefault;
        if (c != 1 && c != 3) throw new ArgumentOutOfRangeException(nameof(Channels), $"Channels must be 1 or 3, got {c}.");
        return c;
    }
}
