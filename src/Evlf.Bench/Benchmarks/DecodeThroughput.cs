using System.Diagnostics;
using Evlf.OnnxHybrid.Data;

namespace Evlf.Bench.Benchmarks;

/// <summary>One throughput measurement of the image input path.</summary>
/// <param name="Images">Images processed in the timed run.</param>
/// <param name="Seconds">Wall-clock seconds of the timed run.</param>
/// <param name="Threads">Degree of parallelism used.</param>
/// <param name="DecodeSeconds">Time spent decoding, summed over threads.</param>
/// <param name="CropSeconds">Time spent in <see cref="AdmCenterCrop.CenterCropArr"/>, summed over threads.</param>
/// <param name="TensorSeconds">Time spent converting to normalised NCHW float32, summed over threads.</param>
public sealed record DecodeThroughputResult(int Images, double Seconds, int Threads, double DecodeSeconds, double CropSeconds, double TensorSeconds)
{
    public double ImagesPerSecond => Images / Seconds;

    public override string ToString() =>
        $"{Images} images in {Seconds:F2} s on {Threads} thread(s): {ImagesPerSecond:F1} images/s " +
        $"(thread time: decode {DecodeSeconds:F2} s, ADM crop {CropSeconds:F2} s, to tensor {TensorSeconds:F2} s)";
}

/// <summary>
/// Measures the input path of fusion training and mode extraction — decode a file, ADM center_crop_arr to S,
/// normalise to [−1, 1] NCHW float32 — over a folder of images, in parallel. For benchmarks (<c>evlf bench</c>),
/// never for assertions in tests.
/// </summary>
public static class DecodeThroughput
{
    /// <summary>
    /// Writes <paramref name="count"/> JPEGs (quality 90) of random sizes between <paramref name="minSide"/> and
    /// <paramref name="maxSide"/> into <paramref name="directory"/>: smooth colour fields with shapes and noise,
    /// so they compress and decode like photographs rather than flat test cards. Deterministic per seed.
    /// </summary>
    public static IReadOnlyList<string> WriteSyntheticJpegs(string directory, int count, int minSide = 300, int maxSide = 500, int seed = 0)
    {
        Directory.CreateDirectory(directory);
        var paths = new string[count];
        Parallel.For(0, count, i =>
        {
            var rng = new Random(seed * 100003 + i);
            int w = rng.Next(minSide, maxSide + 1), h = rng.Next(minSide, maxSide + 1);
            var img = new ByteImage(h, w, 3);
            double fx = rng.NextDouble() * 0.05, fy = rng.NextDouble() * 0.05, phase = rng.NextDouble() * 6.28;
            int cx = rng.Next(w), cy = rng.Next(h), r = rng.Next(20, Math.Min(w, h) / 2), r2 = r * r;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    bool inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r2;
                    for (int c = 0; c < 3; c++)
                    {
                        double v = 128 + 80 * Math.Sin(fx * x * (c + 1) + fy * y + phase + c) + rng.Next(-18, 19) + (inside ? 60 - 50 * c : 0);
                        img[y, x, c] = (byte)Math.Clamp((int)v, 0, 255);
                    }
                }
            paths[i] = Path.Combine(directory, $"{i:D5}.jpg");
            File.WriteAllBytes(paths[i], ImageCodec.EncodeJpeg(img, 90));
        });
        return paths;
    }

    /// <summary>
    /// Decodes, crops to <paramref name="size"/> and converts every file once, after a short untimed warm-up.
    /// <paramref name="maxDegreeOfParallelism"/> of −1 uses every core.
    /// </summary>
    public static DecodeThroughputResult Measure(IReadOnlyList<string> files, int size = 256, int maxDegreeOfParallelism = -1, int channels = 3)
    {
        int threads = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        for (int i = 0; i < Math.Min(4, files.Count); i++) Process(files[i], new float[channels * size * size], size, channels, out _, out _, out _);

        long decode = 0, crop = 0, tensor = 0;
        var sw = Stopwatch.StartNew();
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => new float[channels * size * size],
            (i, _, buffer) =>
            {
                Process(files[i], buffer, size, channels, out var d, out var c, out var t);
                Interlocked.Add(ref decode, d);
                Interlocked.Add(ref crop, c);
                Interlocked.Add(ref tensor, t);
                return buffer;
            },
            _ => { });
        sw.Stop();
        double toSeconds = 1.0 / Stopwatch.Frequency;
        return new DecodeThroughputResult(files.Count, sw.Elapsed.TotalSeconds, threads, decode * toSeconds, crop * toSeconds, tensor * toSeconds);
    }

    private static void Process(string file, float[] buffer, int size, int channels, out long decode, out long crop, out long tensor)
    {
        long t0 = Stopwatch.GetTimestamp();
        var image = ImageCodec.Decode(file, channels);
        long t1 = Stopwatch.GetTimestamp();
        var cropped = AdmCenterCrop.CenterCropArr(image, size);
        long t2 = Stopwatch.GetTimestamp();
        NchwBatch.WriteChw(cropped, Normalization.MinusOneToOne, buffer);
        long t3 = Stopwatch.GetTimestamp();
        decode = t1 - t0;
        crop = t2 - t1;
        tensor = t3 - t2;
    }
}
