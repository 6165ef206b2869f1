namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>A point of <see cref="FeatureScatter"/>: 2-D coordinates and a class label.</summary>
internal readonly record struct ScatterPoint(double X, double Y, int Label);

/// <summary>
/// A 2-D scatter of features: real samples as small grey dots, synthetic ones as larger discs in their class's
/// <see cref="ClassPalette"/> colour with a black rim, drawn over the real ones. A legend on the right pairs each
/// colour with its class index. The axes span all points plus a 5 % margin; y grows upwards.
/// </summary>
internal static class FeatureScatter
{
    public const int DefaultWidth = 640, DefaultHeight = 480;

    const int Pad = 10, LegendWidth = 56, LegendRow = 16;
    static readonly Rgb RealDot = new(185, 185, 185);
    static readonly Rgb Frame = new(96, 96, 96);

    public static RgbCanvas Render(IReadOnlyList<ScatterPoint> real, IReadOnlyList<ScatterPoint> synthetic, int classCount,
        int width = DefaultWidth, int height = DefaultHeight)
    {
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), $"Need at least one class, got {classCount}.");
        int legendRows = Math.Max(1, (height - 2 * Pad) / LegendRow);
        int legendColumns = (classCount + legendRows - 1) / legendRows;
        int plotW = width - 2 * Pad - legendColumns * LegendWidth, plotH = height - 2 * Pad;
        if (plotW < 32 || plotH < 32)
            throw new ArgumentOutOfRangeException(nameof(width), $"A {width}x{height} canvas leaves no room to plot {classCount} classes.");

        var all = real.Concat(synthetic).ToArray();
        var (x0, x1) = Range(all.Select(p => p.X));
        var (y0, y1) = Range(all.Select(p => p.Y));
        int Px(double x) => Pad + (int)Math.Round((x - x0) / (x1 - x0) * (plotW - 1));
        int Py(double y) => Pad + (int)Math.Round((y1 - y) / (y1 - y0) * (plotH - 1));

        var canvas = new RgbCanvas(width, height, Rgb.White);
        foreach (var p in real) canvas.Disc(Px(p.X), Py(p.Y), 1.0, RealDot);
        foreach (var p in synthetic)
        {
            canvas.Disc(Px(p.X), Py(p.Y), 5.0, Rgb.Black);
            canvas.Disc(Px(p.X), Py(p.Y), 3.9, ClassPalette.Of(p.Label, classCount));
        }
        canvas.Outline(Pad - 1, Pad - 1, plotW + 2, plotH + 2, Frame);

        for (int c = 0; c < classCount; c++)
        {
            int x = Pad + plotW + 8 + c / legendRows * LegendWidth, y = Pad + c % legendRows * LegendRow;
            canvas.Disc(x + 5, y + 5, 5.0, Rgb.Black);
            canvas.Disc(x + 5, y + 5, 3.9, ClassPalette.Of(c, classCount));
            canvas.Number(c, x + 14, y + 1, 2, Rgb.Black);
        }
        return canvas;
    }

    static (double Lo, double Hi) Range(IEnumerable<double> values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) continue;
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        if (lo > hi) return (-1, 1);
        double margin = hi > lo ? 0.05 * (hi - lo) : 1.0;
        return (lo - margin, hi + margin);
    }
}
