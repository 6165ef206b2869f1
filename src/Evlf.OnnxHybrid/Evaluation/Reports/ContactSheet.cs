using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>
/// A grid of a synthetic set's images: one row per class in label order, the class's first images left to right
/// (at most <see cref="DefaultColumns"/>), the class index in front of each row. Small images are enlarged by an
/// integer factor (nearest neighbour, so pixels stay visible); large ones are shrunk to fit a 96-pixel cell.
/// </summary>
internal static class ContactSheet
{
    public const int DefaultColumns = 10;

    const int Gap = 2, Margin = 4, LabelScale = 2, MinCell = 48, MaxCell = 96;
    static readonly Rgb Empty = new(230, 230, 230);

    /// <summary>Draws <paramref name="imagesByClass"/>[c] in row c; classes without images get a row of empty cells.</summary>
    public static RgbCanvas Render(IReadOnlyList<IReadOnlyList<ByteImage>> imagesByClass, int columns = DefaultColumns)
    {
        if (imagesByClass.Count == 0) throw new ArgumentException("A contact sheet needs at least one class.", nameof(imagesByClass));
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), $"Columns must be 1 or more, got {columns}.");
        var first = imagesByClass.SelectMany(c => c).FirstOrDefault();
        int h = first?.Height ?? MinCell, w = first?.Width ?? MinCell;
        int side = Math.Max(h, w);
        if (side > MaxCell)
        {
            // Shrink to fit: the longer side becomes MaxCell.
            h = Math.Max(1, h * MaxCell / side);
            w = Math.Max(1, w * MaxCell / side);
            side = MaxCell;
        }
        int scale = side >= MinCell ? 1 : (MinCell + side - 1) / side;
        int cellW = w * scale, cellH = h * scale;
        int cols = Math.Min(columns, Math.Max(1, imagesByClass.Max(c => c.Count)));
        int labelWidth = RgbCanvas.NumberWidth(imagesByClass.Count - 1, LabelScale) + 2 * Margin;

        var canvas = new RgbCanvas(labelWidth + cols * (cellW + Gap) + Margin, Margin + imagesByClass.Count * (cellH + Gap) + Margin - Gap, Rgb.White);
        for (int c = 0; c < imagesByClass.Count; c++)
        {
            int y = Margin + c * (cellH + Gap);
            canvas.Number(c, Margin, y + (cellH - 5 * LabelScale) / 2, LabelScale, Rgb.Black);
            for (int k = 0; k < cols; k++)
            {
                int x = labelWidth + k * (cellW + Gap);
                if (k < imagesByClass[c].Count)
                {
                    var image = imagesByClass[c][k];
                    if (image.Height != h || image.Width != w) image = ImageTransforms.Resize(image, w, h);
                    canvas.Draw(image, x, y, scale);
                }
                else canvas.Fill(x, y, cellW, cellH, Empty);
            }
        }
        return canvas;
    }
}
