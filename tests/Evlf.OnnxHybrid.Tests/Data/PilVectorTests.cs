using System.Runtime.CompilerServices;
using System.Text.Json;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>
/// Our resampling and ADM crop against Pillow 9.4 on generated inputs (Vectors/make_pil_vectors.py made the
/// file): byte for byte, since both sum with 22-bit fixed-point weights.
/// </summary>
public class PilVectorTests
{
    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Load().GetProperty("cases").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPillow(int index)
    {
        var c = Load().GetProperty("cases")[index];
        int w = c.GetProperty("w").GetInt32(), h = c.GetProperty("h").GetInt32(), ch = c.GetProperty("c").GetInt32();
        var input = Make(w, h, ch, c.GetProperty("seed").GetInt32());
        var expected = Convert.FromBase64String(c.GetProperty("out").GetString()!);
        ByteImage actual = c.GetProperty("kind").GetString() == "center_crop_arr"
            ? AdmCenterCrop.CenterCropArr(input, c.GetProperty("size").GetInt32())
            : Resampler.Resize(input, c.GetProperty("out_w").GetInt32(), c.GetProperty("out_h").GetInt32(),
                Enum.Parse<ResampleFilter>(c.GetProperty("filter").GetString()!, ignoreCase: true));

        Assert.Equal(expected, actual.Pixels);
    }

    // Same formula as pixel() in make_pil_vectors.py, in 32-bit unsigned arithmetic.
    private static ByteImage Make(int w, int h, int ch, int seed)
    {
        var img = new ByteImage(h, w, ch);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < ch; c++)
                {
                    uint v = unchecked(((uint)x * 73856093u) ^ ((uint)y * 19349663u) ^ ((uint)(c + 3 * seed) * 83492791u));
                    v ^= v >> 13;
                    v = unchecked(v * 0x5BD1E995u);
                    v ^= v >> 15;
                    img[y, x, c] = (byte)(((3 * x + 2 * y + 40 * c) % 192 + (int)(v & 63)) & 255);
                }
        return img;
    }

    private static JsonElement Load([CallerFilePath] string here = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(here)!, "Vectors", "pil_vectors.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }
}
