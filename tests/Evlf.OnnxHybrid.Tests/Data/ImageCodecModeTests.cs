using System.Runtime.CompilerServices;
using System.Text.Json;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>
/// Our decoder against Pillow 9.4 on palette, gray+alpha, RGBA, gray, CMYK-JPEG, JPEG and BMP files
/// (Vectors/make_pil_modes.py made them): exactly the pixels PIL's convert("RGB") / convert("L") give. The
/// JPEGs match too, since SkiaSharp bundles its own libjpeg-turbo and the expected values are stored.
/// </summary>
public class ImageCodecModeTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var c in Load().GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("file").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void DecodesLikePillow(string file)
    {
        var c = Load().GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);
        var path = Path.Combine(VectorsDir(), "modes", file);
        foreach (var (channels, key) in new[] { (3, "rgb"), (1, "l") })
        {
            var expected = Convert.FromBase64String(c.GetProperty(key).GetString()!);
            var actual = ImageCodec.Decode(path, channels);
            Assert.Equal((c.GetProperty("h").GetInt32(), c.GetProperty("w").GetInt32()), (actual.Height, actual.Width));
            Assert.Equal(expected.Length, actual.Pixels.Length);
            Assert.Equal(expected, actual.Pixels);
        }
    }

    private static string VectorsDir([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Vectors");

    private static JsonElement Load() => JsonDocument.Parse(File.ReadAllText(Path.Combine(VectorsDir(), "pil_modes.json"))).RootElement;
}
