using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation.Reports;

namespace Evlf.OnnxHybrid.Tests.Evaluation.Reports;

public class FigureTests
{
    static Rgb At(RgbCanvas c, int x, int y) => new(c.Image[y, x, 0], c.Image[y, x, 1], c.Image[y, x, 2]);

    [Fact]
    public void DigitsAreDrawnFromTheBitmapFont()
    {
        var c = new RgbCanvas(20, 10, Rgb.White);
        int width = c.Number(17, 1, 1, 1, Rgb.Black);
        Assert.Equal(7, width); // two 3-wide glyphs and one column of space
        // "1" is 010/110/010/010/111: its top row has only the middle pixel set.
        Assert.Equal(Rgb.White, At(c, 1, 1));
        Assert.Equal(Rgb.Black, At(c, 2, 1));
        Assert.Equal(Rgb.Black, At(c, 1, 2));
        Assert.Equal(Rgb.Black, At(c, 3, 5));
        // "7" starts at x = 5: its top row is full, its second row has only the right pixel.
        Assert.Equal(Rgb.Black, At(c, 5, 1));
        Assert.Equal(Rgb.White, At(c, 5, 2));
        Assert.Equal(Rgb.Black, At(c, 7, 2));
        Assert.Equal(14, RgbCanvas.NumberWidth(42, 2)); // (2·4 − 1)·2
    }

    [Fact]
    public void ADiscOfRadiusOneIsAPlus()
    {
        var c = new RgbCanvas(5, 5, Rgb.White);
        c.Disc(2, 2, 1.0, Rgb.Black);
        int black = 0;
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
                if (At(c, x, y) == Rgb.Black) black++;
        Assert.Equal(5, black);
        Assert.Equal(Rgb.White, At(c, 1, 1));
        Assert.Equal("#1f77b4", ClassPalette.Of(0, 10).ToString());
        Assert.NotEqual(ClassPalette.Of(11, 20), ClassPalette.Of(12, 20));
    }

    [Fact]
    public void ContactSheetHasOneRowPerClassAndEnlargesSmallImages()
    {
        // Three classes of 28×28 gray images (value = 10·class + column), two, one and no images.
        ByteImage Image(int c, int k) => new(28, 28, 1, Enumerable.Repeat((byte)(10 * c + k + 1), 28 * 28).ToArray());
        IReadOnlyList<ByteImage>[] byClass = [[Image(0, 0), Image(0, 1)], [Image(1, 0)], []];
        var sheet = ContactSheet.Render(byClass);

        // 28 < 48, so cells are 2× = 56 pixels, 2 apart; the label column is the digit (3·2 wide) plus 2·4 margin.
        const int label = 14, cell = 56, gap = 2, margin = 4;
        Assert.Equal(label + 2 * (cell + gap) + margin, sheet.Width);
        Assert.Equal(margin + 3 * (cell + gap) + margin - gap, sheet.Height);
        Assert.Equal(new Rgb(1, 1, 1), At(sheet, label, margin));                                  // class 0, image 0
        Assert.Equal(new Rgb(2, 2, 2), At(sheet, label + cell + gap + 55, margin + 55));           // class 0, image 1, last pixel
        Assert.Equal(new Rgb(11, 11, 11), At(sheet, label, margin + cell + gap));                  // class 1, image 0
        Assert.Equal(new Rgb(230, 230, 230), At(sheet, label + cell + gap, margin + cell + gap));  // class 1 has no second image
        Assert.Equal(new Rgb(230, 230, 230), At(sheet, label, margin + 2 * (cell + gap)));         // class 2 is empty

        Assert.Equal(sheet.EncodePng(), ContactSheet.Render(byClass).EncodePng()); // same data, same bytes
    }

    [Fact]
    public void ScatterPutsSyntheticDiscsInClassColoursOverGreyRealDots()
    {
        ScatterPoint[] real = [new(0, 0, 0), new(10, 10, 1)];
        ScatterPoint[] synthetic = [new(5, 5, 1)];
        var plot = FeatureScatter.Render(real, synthetic, classCount: 2, width: 200, height: 120);
        // Axes span [−0.5, 10.5] in both directions (5 % margin); the plot area starts at 10 and is
        // 200 − 20 − 56 = 124 wide and 100 high, so (5, 5) is at the centre.
        int px = 10 + (int)Math.Round(5.5 / 11 * 123), py = 10 + (int)Math.Round(5.5 / 11 * 99);
        Assert.Equal(ClassPalette.Of(1, 2), At(plot, px, py));
        Assert.Equal(Rgb.Black, At(plot, px + 5, py)); // the rim
        int rx = 10 + (int)Math.Round(0.5 / 11 * 123), ry = 10 + (int)Math.Round(10.5 / 11 * 99);
        Assert.Equal(new Rgb(185, 185, 185), At(plot, rx, ry)); // real point (0, 0), bottom left
        Assert.Equal(plot.EncodePng(), FeatureScatter.Render(real, synthetic, 2, 200, 120).EncodePng());
    }
}
