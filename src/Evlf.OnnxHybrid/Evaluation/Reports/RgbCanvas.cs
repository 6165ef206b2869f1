using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>An sRGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White => new(255, 255, 255);
    public static Rgb Black => new(0, 0, 0);

    /// <summary>Parses "#rrggbb".</summary>
    public static Rgb Parse(string hex) => new(
        Convert.ToByte(hex.Substring(1, 2), 16), Convert.ToByte(hex.Substring(3, 2), 16), Convert.ToByte(hex.Substring(5, 2), 16));

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}

/// <summary>
/// A small raster for report figures, drawn pixel by pixel without anti-aliasing or fonts, so a figure's PNG bytes
/// depend only on its data (not on the machine's fonts or SIMD paths). Text is limited to digits, in a 3×5 bitmap
/// font scaled by an integer factor. Encoded by <see cref="ImageCodec.EncodePng"/>.
/// </summary>
internal sealed class RgbCanvas
{
    // 3×5 digit glyphs, one row per byte, bit 2 = left column.
    static readonly byte[][] Digits =
    [
        [0b111, 0b101, 0b101, 0b101, 0b111], // 0
        [0b010, 0b110, 0b010, 0b010, 0b111], // 1
        [0b111, 0b001, 0b111, 0b100, 0b111], // 2
        [0b111, 0b001, 0b111, 0b001, 0b111], // 3
        [0b101, 0b101, 0b111, 0b001, 0b001], // 4
        [0b111, 0b100, 0b111, 0b001, 0b111], // 5
        [0b111, 0b100, 0b111, 0b101, 0b111], // 6
        [0b111, 0b001, 0b001, 0b001, 0b001], // 7
        [0b111, 0b101, 0b111, 0b101, 0b111], // 8
        [0b111, 0b101, 0b111, 0b001, 0b111], // 9
    ];

    public RgbCanvas(int width, int height, Rgb background)
    {
        Image = new ByteImage(height, width, 3);
        Fill(0, 0, width, height, background);
    }

    /// <summary>The pixels drawn so far.</summary>
    public ByteImage Image { get; }

    public int Width => Image.Width;
    public int Height => Image.Height;

    /// <summary>Sets one pixel; points outside the canvas are ignored.</summary>
    public void Set(int x, int y, Rgb c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = (y * Width + x) * 3;
        Image.Pixels[i] = c.R;
        Image.Pixels[i + 1] = c.G;
        Image.Pixels[i + 2] = c.B;
    }

    /// <summary>Fills the rectangle [x, x + w) × [y, y + h), clipped to the canvas.</summary>
    public void Fill(int x, int y, int w, int h, Rgb c)
    {
        for (int yy = Math.Max(0, y); yy < Math.Min(Height, y + h); yy++)
            for (int xx = Math.Max(0, x); xx < Math.Min(Width, x + w); xx++)
                Set(xx, yy, c);
    }

    /// <summary>A one-pixel outline of the rectangle [x, x + w) × [y, y + h).</summary>
    public void Outline(int x, int y, int w, int h, Rgb c)
    {
        Fill(x, y, w, 1, c);
        Fill(x, y + h - 1, w, 1, c);
        Fill(x, y, 1, h, c);
        Fill(x + w - 1, y, 1, h, c);
    }

    /// <summary>The pixels whose centres lie within <paramref name="radius"/> of (cx, cy).</summary>
    public void Disc(int cx, int cy, double radius, Rgb c)
    {
        int r = (int)Math.Ceiling(radius);
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++)
                if (dx * dx + dy * dy <= radius * radius) Set(cx + dx, cy + dy, c);
    }

    /// <summary>Copies <paramref name="image"/> (gray or RGB) with its top-left corner at (x, y), each pixel as a <paramref name="scale"/>×<paramref name="scale"/> block.</summary>
    public void Draw(ByteImage image, int x, int y, int scale = 1)
    {
        var rgb = image.WithChannels(3);
        for (int sy = 0; sy < rgb.Height; sy++)
            for (int sx = 0; sx < rgb.Width; sx++)
            {
                var c = new Rgb(rgb[sy, sx, 0], rgb[sy, sx, 1], rgb[sy, sx, 2]);
                Fill(x + sx * scale, y + sy * scale, scale, scale, c);
            }
    }

    /// <summary>Writes the decimal digits of <paramref name="value"/> (≥ 0) from (x, y) in the 3×5 font scaled by <paramref name="scale"/>; returns the width drawn.</summary>
    public int Number(int value, int x, int y, int scale, Rgb c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int k = 0; k < text.Length; k++)
        {
            var glyph = Digits[text[k] - '0'];
            for (int row = 0; row < 5; row++)
                for (int col = 0; col < 3; col++)
                    if ((glyph[row] >> (2 - col) & 1) != 0)
                        Fill(x + (k * 4 + col) * scale, y + row * scale, scale, scale, c);
        }
        return NumberWidth(value, scale);
    }

    /// <summary>Width in pixels of <see cref="Number"/>'s output (digits 3 wide with 1 of space between).</summary>
    public static int NumberWidth(int value, int scale) =>
        (value.ToString(System.Globalization.CultureInfo.InvariantCulture).Length * 4 - 1) * scale;

    /// <summary>The canvas as PNG bytes.</summary>
    public byte[] EncodePng() => ImageCodec.EncodePng(Image);
}
