namespace Evlf.Bench.Benchmarks;

/// <summary>
/// The image input path on every core: synthetic 300–500 px JPEGs decoded, ADM centre-cropped to 256 and made tensors
/// (<see cref="DecodeThroughput"/>), in images per second.
/// </summary>
public sealed class ImageDecodeBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        string jpegs = Directory.CreateTempSubdirectory("evlf-bench-jpeg-").FullName;
        try
        {
            var files = DecodeThroughput.WriteSyntheticJpegs(jpegs, context.Options.Quick ? 200 : 1000, 300, 500);
            var decode = DecodeThroughput.Measure(files, size: 256);
            context.Report["decode_adm256_images_per_second"] = Math.Round(decode.ImagesPerSecond, 1);
            context.Output.Line(FormattableString.Invariant($"image input: {decode.ImagesPerSecond:F0} JPEGs/s decoded, ADM-cropped to 256 and made tensors ({decode.Threads} threads, {decode.Images} images)"));
        }
        finally
        {
            Directory.Delete(jpegs, true);
        }
    }
}
