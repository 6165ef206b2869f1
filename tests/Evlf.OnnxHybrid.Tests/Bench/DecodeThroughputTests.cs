using Evlf.Bench.Benchmarks;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Tests.Data;
using Xunit.Abstractions;

namespace Evlf.OnnxHybrid.Tests.Bench;

/// <summary>
/// Checks the benchmark machinery on a handful of small images. The measurement itself is run by setting
/// EVLF_BENCH_IMAGES (e.g. 500), which switches to that many 300–500 px JPEGs cropped to 256 and prints the
/// result; nothing about speed is asserted:
/// <c>dotnet test --filter FullyQualifiedName~DecodeThroughputTests -e EVLF_BENCH_IMAGES=500 --logger "console;verbosity=detailed"</c>
/// </summary>
public class DecodeThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void MeasuresDecodeCropAndTensorOverAFolder()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("EVLF_BENCH_IMAGES"), out var n) && n > 0 ? n : 6;
        bool full = count != 6;
        using var dir = new TempDir();
        var files = full
            ? DecodeThroughput.WriteSyntheticJpegs(dir.Path, count, 300, 500)
            : DecodeThroughput.WriteSyntheticJpegs(dir.Path, count, 40, 70);
        Assert.Equal(count, files.Count);
        foreach (var f in files.Take(6))
        {
            var (w, h, format) = ImageCodec.ReadHeader(f);
            Assert.Equal("JPEG", format);
            Assert.InRange(w, full ? 300 : 40, full ? 500 : 70);
            Assert.InRange(h, full ? 300 : 40, full ? 500 : 70);
        }

        var result = DecodeThroughput.Measure(files, size: full ? 256 : 32);
        output.WriteLine($"decode + ADM center_crop_arr({(full ? 256 : 32)}) + [-1,1] NCHW: {result}");
        Assert.Equal(count, result.Images);
        Assert.Equal(Environment.ProcessorCount, result.Threads);
        Assert.True(result.DecodeSeconds > 0 && result.CropSeconds > 0 && result.TensorSeconds > 0);
        Assert.True(result.ImagesPerSecond > 0);
    }
}
