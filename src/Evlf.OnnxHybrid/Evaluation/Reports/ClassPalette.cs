namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>
/// One colour per class for figures: the ten colours of the widely used "category10" palette (the default cycle of
/// d3 and matplotlib), then evenly spaced hues for classes beyond ten.
/// </summary>
internal static class ClassPalette
{
    static readonly Rgb[] Category10 = new[]
    {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    }.Select(Rgb.Parse).ToArray();

    /// <summary>The colour of class <paramref name="label"/> among <paramref name="classCount"/> classes.</summary>
    public static Rgb Of(int label, int classCount)
    {
        if (classCount <= Category10.Length) return Category10[label];
        // Hue around the circle at full saturation, value 0.85, golden-ratio steps so neighbours differ.
        double h = (label * 0.6180339887498949) % 1.0 * 6.0;
        double v = 0.85, x = v * (1 - Math.Abs(h % 2 - 1));
        var (r, g, b) = (int)h switch
        {
            0 => (v, x, 0.0),
            1 => (x, v, 0.0),
            2 => (0.0, v, x),
            3 => (0.0, x, v),
            4 => (x, 0.0, v),
            _ => (v, 0.0, x),
        };
        return new Rgb((byte)Math.Round(r * 255), (byte)Math.Round(g * 255), (byte)Math.Round(b * 255));
    }
}
