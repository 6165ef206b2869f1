namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Maps 8-bit pixel values to float32 per channel, through a 256-entry table per channel (so conversion costs a
/// lookup). The float32 arithmetic follows the Python code it mirrors, so values match bit for bit.
/// </summary>
public sealed class Normalization
{
    private readonly float[][] tables;

    private Normalization(string name, float[][] tables)
    {
        Name = name;
        this.tables = tables;
    }

    /// <summary>A short description, e.g. "[-1,1]" or "mean/std".</summary>
    public string Name { get; }

    /// <summary>Channels this normalisation was defined for; 1 means it applies to every channel.</summary>
    public int Channels => tables.Length;

    /// <summary>ADM / diffusion convention: x / 127.5 − 1 (float32), so 0 → −1 and 255 → 1.</summary>
    public static Normalization MinusOneToOne { get; } = new("[-1,1]", [Table(v => v / 127.5f - 1f)]);

    /// <summary>torchvision <c>ToTensor</c>: x / 255 (float32), in [0, 1].</summary>
    public static Normalization UnitInterval { get; } = new("[0,1]", [Table(v => v / 255f)]);

    /// <summary>torchvision <c>ToTensor</c> then <c>Normalize(mean, std)</c>: (x / 255 − mean[c]) / std[c] in float32.</summary>
    public static Normalization MeanStd(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"Mean and std need the same non-zero length, got {mean.Count} and {std.Count}.");
        var tables = new float[mean.Count][];
        for (int c = 0; c < mean.Count; c++)
        {
            if (!(std[c] > 0)) throw new ArgumentOutOfRangeException(nameof(std), $"Std must be positive, got {std[c]} for channel {c}.");
            float m = mean[c], s = std[c];
            tables[c] = Table(v => (v / 255f - m) / s);
        }
        return new Normalization($"mean/std ({string.Join(",", mean)} / {string.Join(",", std)})", tables);
    }

    /// <summary>The float value of byte <paramref name="value"/> in channel <paramref name="channel"/>.</summary>
    public float Apply(byte value, int channel) => TableFor(channel)[value];

    internal float[] TableFor(int channel) => tables.Length == 1 ? tables[0] : tables[channel];

    internal void CheckChannels(int channels)
    {
        if (tables.Length != 1 && tables.Length != channels)
            throw new ArgumentException($"Normalization {Name} is defined for {tables.Length} channels but the image has {channels}.");
    }

    private static float[] Table(Func<float, float> f)
    {
        var t = new float[256];
        for (int v = 0; v < 256; v++) t[v] = f(v);
        return t;
    }
}
