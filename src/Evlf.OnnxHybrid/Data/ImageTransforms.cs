namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Geometric transforms on <see cref="ByteImage"/> with torchvision's semantics where torchvision has the
/// same operation. Each returns a new image.
/// </summary>
public static class ImageTransforms
{
    /// <summary>The <paramref name="height"/>×<paramref name="width"/> window whose top-left pixel is (<paramref name="top"/>, <paramref name="left"/>); it must lie inside the image.</summary>
    public static ByteImage Crop(ByteImage image, int top, int left, int height, int width)
    {
        if (top < 0 || left < 0 || height <= 0 || width <= 0 || top + height > image.Height || left + width > image.Width)
            throw new ArgumentOutOfRangeException(nameof(top), $"Crop {width}x{height} at ({left},{top}) does not fit a {image.Width}x{image.Height} image.");
        int ch = image.Channels, rowBytes = width * ch;
        var dst = new byte[height * rowBytes];
        for (int y = 0; y < height; y++)
            Buffer.BlockCopy(image.Pixels, ((top + y) * image.Width + left) * ch, dst, y * rowBytes, rowBytes);
        return new ByteImage(height, width, ch, dst);
    }

    /// <summary>
    /// torchvision's <c>CenterCrop</c>: offsets round((H − h)/2) and round((W − w)/2), half to even; an image
    /// smaller than the window is first padded with zeros on both sides (the extra pixel, if odd, going right/bottom).
    /// </summary>
    public static ByteImage CenterCrop(ByteImage image, int height, int width)
    {
        if (height > image.Height || width > image.Width)
        {
            int padH = Math.Max(0, height - image.Height), padW = Math.Max(0, width - image.Width);
            image = Pad(image, padW / 2, padH / 2, (padW + 1) / 2, (padH + 1) / 2, 0);
            if (image.Height == height && image.Width == width) return image;
        }
        int top = (int)Math.Round((image.Height - height) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((image.Width - width) / 2.0, MidpointRounding.ToEven);
        return Crop(image, top, left, height, width);
    }

    /// <summary>Adds borders of constant <paramref name="value"/> (torchvision <c>Pad</c>, mode "constant").</summary>
    public static ByteImage Pad(ByteImage image, int left, int top, int right, int bottom, byte value = 0)
    {
        if (left < 0 || top < 0 || right < 0 || bottom < 0) throw new ArgumentOutOfRangeException(nameof(left), "Padding must not be negative.");
        int ch = image.Channels, w = image.Width + left + right, h = image.Height + top + bottom;
        var dst = new byte[h * w * ch];
        if (value != 0) Array.Fill(dst, value);
        int rowBytes = image.Width * ch;
        for (int y = 0; y < image.Height; y++)
            Buffer.BlockCopy(image.Pixels, y * rowBytes, dst, ((top + y) * w + left) * ch, rowBytes);
        return new ByteImage(h, w, ch, dst);
    }

    /// <summary>Mirrors left to right.</summary>
    public static ByteImage HorizontalFlip(ByteImage image)
    {
        int w = image.Width, ch = image.Channels;
        var dst = new byte[image.Pixels.Length];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < w; x++)
                Buffer.BlockCopy(image.Pixels, (y * w + x) * ch, dst, (y * w + (w - 1 - x)) * ch, ch);
        return new ByteImage(image.Height, w, ch, dst);
    }

    /// <summary>Resizes to exactly <paramref name="width"/>×<paramref name="height"/> (see <see cref="Resampler"/>).</summary>
    public static ByteImage Resize(ByteImage image, int width, int height, ResampleFilter filter = ResampleFilter.Bilinear) =>
        Resampler.Resize(image, width, height, filter);

    /// <summary>
    /// torchvision's <c>Resize(size)</c> with an int: the shorter side becomes <paramref name="size"/>, the longer
    /// side int(size · long / short) (truncated), keeping the aspect ratio.
    /// </summary>
    public static ByteImage ResizeShorterSide(ByteImage image, int size, ResampleFilter filter = ResampleFilter.Bilinear)
    {
        int w = image.Width, h = image.Height;
        if (w <= h) return Resampler.Resize(image, size, (int)(size * (double)h / w), filter);
        return Resampler.Resize(image, (int)(size * (double)w / h), size, filter);
    }
}
