using System.Buffers.Binary;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>Small images and hand-built files for the data tests.</summary>
internal static class TestImages
{
    /// <summary>A deterministic pattern: channel c at (y, x) = (7y + 13x + 61c + seed) mod 256.</summary>
    public static ByteImage Pattern(int height, int width, int channels, int seed = 0)
    {
        var img = new ByteImage(height, width, channels);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    img[y, x, c] = (byte)((7 * y + 13 * x + 61 * c + seed) & 255);
        return img;
    }

    public static ByteImage Constant(int height, int width, int channels, byte value)
    {
        var img = new ByteImage(height, width, channels);
        Array.Fill(img.Pixels, value);
        return img;
    }

    /// <summary>An uncompressed 24-bit BMP (bottom-up rows, BGR, rows padded to 4 bytes), written from the format's spec.</summary>
    public static byte[] Bmp24(ByteImage rgb)
    {
        int w = rgb.Width, h = rgb.Height, row = (w * 3 + 3) & ~3;
        var file = new byte[54 + row * h];
        file[0] = (byte)'B'; file[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), h);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(34), row * h);
        for (int y = 0; y < h; y++)
        {
            int o = 54 + (h - 1 - y) * row;
            for (int x = 0; x < w; x++)
            {
                file[o + 3 * x] = rgb[y, x, 2];
                file[o + 3 * x + 1] = rgb[y, x, 1];
                file[o + 3 * x + 2] = rgb[y, x, 0];
            }
        }
        return file;
    }

    /// <summary>
    /// A valid PNG signature and IHDR chunk (correct CRC) claiming <paramref name="width"/>×<paramref name="height"/>,
    /// followed by one tiny IDAT and IEND: a decompression-bomb-shaped file of ~70 bytes.
    /// </summary>
    public static byte[] PngHeaderClaiming(int width, int height)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type RGB
        WriteChunk(ms, "IHDR", ihdr);
        WriteChunk(ms, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]); // zlib stream of nothing
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typed = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) typed[i] = (byte)type[i];
        data.CopyTo(typed, 4);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typed));
        s.Write(len);
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as PNG chunks use it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
