using System.Buffers;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Decodes PNG, JPEG, WebP and BMP files to <see cref="ByteImage"/> and encodes PNG, with SkiaSharp.
/// Every problem with a file (missing, empty, truncated, corrupt, too many pixels) is a
/// <see cref="UserInputException"/> that names the file. Like PIL, no EXIF rotation and no colour
/// management are applied: pixels come out as stored.
/// </summary>
public static class ImageCodec
{
    /// <summary>File extensions (lower case, with the dot) that image-folder readers treat as images.</summary>
    public static IReadOnlySet<string> Extensions { get; } =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp" };

    /// <summary>Reads and decodes <paramref name="path"/> into an image with <paramref name="channels"/> channels (1 or 3).</summary>
    public static ByteImage Decode(string path, int channels, ImageDecodeOptions? options = null)
    {
        options ??= ImageDecodeOptions.Default;
        byte[] bytes;
        try
        {
            // Checked first: a FIFO would block the read forever, a device would never end, a huge file would fill memory.
            var status = PathStatus.Of(path);
            if (status.Kind == PathKind.Missing) throw new FileNotFoundException(null, path);
            PathStatus.RequireFile(path, "Image file");
            CheckFileSize(path, status.Size, options.MaxPixels);
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UserInputException($"Image file '{path}' does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"Image file '{path}' could not be read: {e.Message}", e);
        }
        return Decode(bytes, path, channels, options);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> is used in error messages.</summary>
    public static ByteImage Decode(byte[] encoded, string name, int channels, ImageDecodeOptions? options = null)
    {
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), $"Channels must be 1 or 3, got {channels}.");
        options ??= ImageDecodeOptions.Default;
        if (encoded.Length == 0)
            throw new UserInputException($"Image file '{name}' is empty (0 bytes); expected a PNG, JPEG, WebP or BMP image.");

        // A native memory stream, not a managed one: SkiaSharp's managed-stream wrapper allocates a managed buffer the
        // size of every skip the decoder asks for, so a 100-byte BMP whose pixel offset says 1.8 GB allocated 1.8 GB.
        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var created);
        if (codec is null)
            throw new UserInputException(created == SKCodecResult.IncompleteInput && HasKnownSignature(encoded)
                ? $"Image file '{name}' is truncated: its header ends before the image starts ({encoded.Length} bytes)."
                : $"Image file '{name}' is not a readable PNG, JPEG, WebP or BMP image (decoder: {created}).");

        var info = codec.Info;
        CheckPixelCount(name, info.Width, info.Height, options.MaxPixels);

        // Gray sources decode straight to Gray8; everything else to straight-alpha RGBA, alpha then dropped (as PIL's convert("RGB")).
        bool graySource = info.ColorType == SKColorType.Gray8;
        var target = new SKImageInfo(info.Width, info.Height, graySource ? SKColorType.Gray8 : SKColorType.Rgba8888,
            graySource ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        // The decode buffer is pooled: it is large (4 bytes a pixel) and short-lived, and fresh large-object-heap
        // arrays per image would trigger a full garbage collection every few images.
        if (target.BytesSize64 > Array.MaxLength)
            throw new UserInputException($"Image file '{name}' declares {info.Width}x{info.Height} pixels, more than one decode buffer can hold; lower ImageDecodeOptions.MaxPixels.");
        var buffer = ArrayPool<byte>.Shared.Rent((int)target.BytesSize64);
        try
        {
            SKCodecResult result;
            var handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
            try
            {
                result = codec.GetPixels(target, handle.AddrOfPinnedObject());
            }
            finally
            {
                handle.Free();
            }
            if (result != SKCodecResult.Success)
                throw new UserInputException(result == SKCodecResult.IncompleteInput
                    ? $"Image file '{name}' is truncated: its {info.Width}x{info.Height} pixel data ends early ({encoded.Length} bytes)."
                    : $"Image file '{name}' is corrupt: its {info.Width}x{info.Height} pixel data could not be decoded (decoder: {result}).");
            return graySource ? FromGray(buffer, info.Width, info.Height, target.RowBytes, channels) : FromRgba(buffer, info.Width, info.Height, target.RowBytes, channels);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads only the header of <paramref name="path"/>: its width and height, and its format.</summary>
    public static (int Width, int Height, string Format) ReadHeader(string path)
    {
        var status = PathStatus.Of(path);
        if (status.Kind == PathKind.Missing) throw new UserInputException($"Image file '{path}' does not exist.");
        PathStatus.RequireFile(path, "Image file");
        if (status.Size == 0)
            throw new UserInputException($"Image file '{path}' is empty (0 bytes); expected a PNG, JPEG, WebP or BMP image.");
        try
        {
            // Only the start of the file is read; a native stream for the reason given in Decode.
            using var data = SKData.CreateCopy(ReadStart(path, HeaderBytes));
            using var stream = new SKMemoryStream(data);
            using var codec = SKCodec.Create(stream, out var created);
            if (codec is null)
                throw new UserInputException($"Image file '{path}' is not a readable PNG, JPEG, WebP or BMP image (decoder: {created}).");
            return (codec.Info.Width, codec.Info.Height, codec.EncodedFormat.ToString().ToUpperInvariant());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"Image file '{path}' could not be read: {e.Message}", e);
        }
    }

    /// <summary>Bytes of a file that <see cref="ReadHeader"/> reads: every supported format states its size well within them.</summary>
    const int HeaderBytes = 1 << 20;

    static byte[] ReadStart(string path, int count)
    {
        using var file = File.OpenRead(path);
        var buffer = new byte[(int)Math.Min(count, file.Length)];
        int n = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return buffer.AsSpan(0, n).ToArray();
    }

    /// <summary>
    /// Largest encoded file read for a pixel limit: 8 bytes a pixel (16-bit RGBA, stored uncompressed) plus 64 MB of
    /// metadata, so no image within the limit is refused and no file can make the reader allocate without bound.
    /// </summary>
    public static long MaxFileBytes(long maxPixels) => maxPixels > (long.MaxValue - (64L << 20)) / 8 ? long.MaxValue : 8 * maxPixels + (64L << 20);

    static void CheckFileSize(string path, long size, long maxPixels)
    {
        long max = Math.Min(MaxFileBytes(maxPixels), Array.MaxLength);
        if (size > max)
            throw new UserInputException($"Image file '{path}' is {size} bytes, more than the {max} an image within the limit of {maxPixels} pixels (ImageDecodeOptions.MaxPixels) can take; it was not read.");
    }

    /// <summary>Encodes <paramref name="image"/> as a lossless PNG (8-bit gray or 8-bit RGB).</summary>
    public static byte[] EncodePng(ByteImage image)
    {
        int w = image.Width, h = image.Height;
        SKImageInfo info;
        byte[] pixels;
        if (image.Channels == 1)
        {
            info = new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque);
            pixels = image.Pixels;
        }
        else
        {
            info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
            pixels = new byte[w * h * 4];
            var src = image.Pixels;
            for (int i = 0, n = w * h; i < n; i++)
            {
                pixels[4 * i] = src[3 * i];
                pixels[4 * i + 1] = src[3 * i + 1];
                pixels[4 * i + 2] = src[3 * i + 2];
                pixels[4 * i + 3] = 255;
            }
        }
        var handle = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var encoded = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image} image as PNG.");
            return encoded.ToArray();
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>Encodes <paramref name="image"/> as JPEG at <paramref name="quality"/> (1–100); used for test data and benchmarks.</summary>
    public static byte[] EncodeJpeg(ByteImage image, int quality = 90)
    {
        var rgb = image.WithChannels(3);
        int w = rgb.Width, h = rgb.Height;
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = new byte[w * h * 4];
        for (int i = 0, n = w * h; i < n; i++)
        {
            pixels[4 * i] = rgb.Pixels[3 * i];
            pixels[4 * i + 1] = rgb.Pixels[3 * i + 1];
            pixels[4 * i + 2] = rgb.Pixels[3 * i + 2];
            pixels[4 * i + 3] = 255;
        }
        var handle = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var encoded = pixmap.Encode(SKEncodedImageFormat.Jpeg, quality)
                ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image} image as JPEG.");
            return encoded.ToArray();
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> as PNG.</summary>
    public static void WritePng(string path, ByteImage image) => File.WriteAllBytes(path, EncodePng(image));

    /// <summary>Whether the bytes start like PNG, JPEG, WebP, BMP or GIF (so a failed header read means truncation, not a foreign format).</summary>
    private static bool HasKnownSignature(ReadOnlySpan<byte> b) =>
        b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])
        || b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8])
        || b.StartsWith("BM"u8)
        || b.StartsWith("GIF8"u8)
        || (b.StartsWith("RIFF"u8) && (b.Length < 12 || b[8..12].SequenceEqual("WEBP"u8)));

    internal static void CheckPixelCount(string name, int width, int height, long maxPixels)
    {
        long pixels = (long)width * height;
        if (width <= 0 || height <= 0)
            throw new UserInputException($"Image file '{name}' declares an empty {width}x{height} canvas; expected a positive width and height.");
        if (pixels > maxPixels)
            throw new UserInputException(
                $"Image file '{name}' declares {width}x{height} = {pixels} pixels, more than the limit of {maxPixels} (ImageDecodeOptions.MaxPixels), so it was not decoded.");
    }

    private static ByteImage FromGray(byte[] buffer, int w, int h, int rowBytes, int channels)
    {
        var gray = new byte[w * h];
        for (int y = 0; y < h; y++) Buffer.BlockCopy(buffer, y * rowBytes, gray, y * w, w);
        return new ByteImage(h, w, 1, gray).WithChannels(channels);
    }

    private static ByteImage FromRgba(byte[] buffer, int w, int h, int rowBytes, int channels)
    {
        var dst = new byte[w * h * channels];
        for (int y = 0; y < h; y++)
        {
            int s = y * rowBytes, d = y * w * channels;
            if (channels == 3)
            {
                for (int x = 0; x < w; x++, s += 4, d += 3)
                {
                    dst[d] = buffer[s];
                    dst[d + 1] = buffer[s + 1];
                    dst[d + 2] = buffer[s + 2];
                }
            }
            else
            {
                for (int x = 0; x < w; x++, s += 4, d++) dst[d] = ByteImage.Luma(buffer[s], buffer[s + 1], buffer[s + 2]);
            }
        }
        return new ByteImage(h, w, channels, dst);
    }
}
