using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// The teacher of soft-label evaluation: a classifier trained on the full real training split (<see cref="TeacherOptions"/>),
/// in eval mode, that labels the students' augmented batches. <see cref="LoadOrTrain"/> caches it: one file per
/// <see cref="KeyOf">key</see> holding a header line, a JSON line (key, settings, test accuracy) and the weights, written
/// atomically, so the second evaluation of any set on the same data reuses it.
/// </summary>
public sealed class Teacher : IDisposable
{
    /// <summary>First line of every teacher file evlf writes; a file without it is never overwritten.</summary>
    public const string Magic = "EVLF-TEACHER 1";

    /// <summary>Extension of the cache files.</summary>
    public const string Extension = ".teacher";

    Teacher(nn.Module<Tensor, Tensor> network, TeacherOptions options, string key, double accuracy, double seconds, string path, bool fromCache,
        int channels, int height, int width, int classes)
    {
        Network = network;
        Options = options;
        Key = key;
        TestAccuracy = accuracy;
        TrainSeconds = seconds;
        CachePath = path;
        FromCache = fromCache;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
    }

    /// <summary>The trained network, in eval mode.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    public TeacherOptions Options { get; }

    /// <summary>16 hex digits of the SHA-256 of everything that shapes the teacher (<see cref="KeyOf"/>).</summary>
    public string Key { get; }

    /// <summary>Fraction of the real test split the teacher classifies correctly.</summary>
    public double TestAccuracy { get; }

    /// <summary>Wall time of the teacher's training (when it was trained, also for a cached one).</summary>
    public double TrainSeconds { get; }

    /// <summary>The cache file.</summary>
    public string CachePath { get; }

    /// <summary>Whether this teacher was read from the cache rather than trained now.</summary>
    public bool FromCache { get; }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }

    /// <summary>Teacher logits of a batch, without gradients, on the device of <paramref name="images"/> (the network runs on its own).</summary>
    public Tensor Logits(Tensor images)
    {
        using var _ = no_grad();
        var device = Network.parameters().FirstOrDefault()?.device ?? CPU;
        return Network.call(images.to(device)).to(images.device);
    }

    public void Dispose() => Network.Dispose();

    /// <summary>
    /// The teacher for <paramref name="real"/> under <paramref name="options"/> and <paramref name="seed"/>: read from
    /// the cache folder when an entry with the same key is there, else trained on the whole training split (progress
    /// after every step), tested on the test split and written to the cache. Images are brought to the size evaluation
    /// uses: <paramref name="resolution"/> (resize and centre-crop) or the size of the first test image.
    /// </summary>
    public static Teacher LoadOrTrain(ImageDataset real, string dataName, Normalization normalization, TeacherOptions options, long seed,
        int? resolution = null, ILogger? logger = null, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default,
        Device? device = null)
    {
        options.Validate();
        if (real.Test.Count == 0) throw new UserInputException($"Dataset {real.Name} has no test split to measure a teacher on.");
        if (real.Train.Count == 0) throw new UserInputException($"Dataset {real.Name} has no training split to train a teacher on.");
        var probe = real.Test.Load(0);
        int channels = real.Channels, classes = real.ClassCount;
        int height = resolution ?? probe.Height, width = resolution ?? probe.Width;
        string key = KeyOf(real, dataName, normalization, options, seed, resolution);
        string folder = Path.GetFullPath(options.CacheDirectory ?? TeacherOptions.DefaultCacheDirectory());
        string path = Path.Combine(folder, $"{options.Architecture.Name}-{key}{Extension}");
        if (Directory.Exists(path))
            throw new UserInputException($"Teacher cache entry '{path}' is a folder; expected a teacher file or nothing there.");
        if (File.Exists(path) && !StartsWithMagic(path))
            throw new UserInputException($"Teacher cache file '{path}' was not written by evlf (it does not start with '{Magic}'); expected an evlf teacher or nothing, so move it away or choose another teacher cache folder.");

        var network = options.Architecture.Create(channels, height, width, classes, Seeds.DeriveLong(seed, SeedStream.TeacherInit));
        try
        {
            if (File.Exists(path) && TryRead(path, key, network, logger) is { } entry)
            {
                network.eval();
                if (device is not null) network.to(device);
                logger?.LogInformation("{Message}", FormattableString.Invariant($"teacher {options.Architecture.Name}: {entry.Accuracy * 100:F2}% on the test split, from the cache ({path})"));
                return new Teacher(network, options, key, entry.Accuracy, entry.Seconds, path, true, channels, height, width, classes);
            }

            var preprocess = resolution is int size ? LabelledImages.ResizeAndCenterCrop(size) : null;
            // Initialised on the CPU (the same weights whatever the device), trained where asked.
            if (device is not null) network.to(device);
            var watch = Stopwatch.StartNew();
            using (var train = LabelledImages.Load(real.Train, normalization, channels, height, width, preprocess: preprocess))
            {
                logger?.LogInformation("{Message}", $"training teacher {options.Architecture.Name} on {train.Count} images ({options.Summary})");
                Train(network, train, options, seed, progress, cancellationToken);
            }
            double seconds = watch.Elapsed.TotalSeconds;
            network.eval();
            double accuracy;
            using (var test = LabelledImages.Load(real.Test, normalization, channels, height, width, preprocess: preprocess))
                accuracy = ClassifierAccuracy.Measure(network, test, cancellationToken: cancellationToken);
            // The cache file is written from CPU tensors; the teacher then labels batches where it trained.
            if (device is not null) network.to(CPU);
            Write(path, key, network, options, dataName, seed, resolution, channels, height, width, classes, accuracy, seconds);
            if (device is not null) network.to(device);
            logger?.LogInformation("{Message}", FormattableString.Invariant($"teacher {options.Architecture.Name}: {accuracy * 100:F2}% on the test split after {seconds:F0} s; cached as {path}"));
            return new Teacher(network, options, key, accuracy, seconds, path, false, channels, height, width, classes);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The cache key: 16 hex digits of a SHA-256 over the dataset's identity (<see cref="DataIdentity"/>: spec, sizes, classes,
    /// training labels and content), the test split's size, the normalisation's values, the image size, the seed and
    /// <see cref="TeacherOptions.Summary"/> (network and every training setting).
    /// </summary>
    public static string KeyOf(ImageDataset real, string dataName, Normalization normalization, TeacherOptions options, long seed, int? resolution)
    {
        var text = new StringBuilder();
        text.AppendLine(Magic);
        text.AppendLine(DataIdentity.Of(dataName, real));
        text.AppendLine(CultureInfo.InvariantCulture, $"test {real.Test.Count}");
        for (int c = 0; c < real.Channels; c++)
            text.AppendLine(CultureInfo.InvariantCulture, $"normalization {c}: {normalization.Apply(0, c):R} {normalization.Apply(255, c):R}");
        text.AppendLine(CultureInfo.InvariantCulture, $"resolution {resolution?.ToString(CultureInfo.InvariantCulture) ?? "native"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"seed {seed}");
        text.AppendLine(options.Summary);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    static void Train(nn.Module<Tensor, Tensor> network, LabelledImages train, TeacherOptions options, long seed,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        var augmentation = new DsaAugmentation(new DsaParameters(options.Augmentation));
        using var generator = new Generator(Seeds.Derive(seed, SeedStream.TeacherTraining), CPU);
        int epochs = options.Epochs;
        var loop = new MiniBatchSgd
        {
            Epochs = epochs,
            BatchSize = options.BatchSize,
            Momentum = options.Momentum,
            WeightDecay = options.WeightDecay,
            // Per-epoch cosine: lr·½(1 + cos(π e / E)), so the last of E epochs runs at a fraction of lr.
            LearningRateAt = e => options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * e / epochs)),
            Loss = (net, x, y, g) => F.cross_entropy(net.call(augmentation.Apply(x, g)), y),
            StepDone = progress is null ? null : (epoch, step, steps, loss) =>
                progress.Report(new WorkProgress("teacher", epoch * steps + step, epochs * steps, FormattableString.Invariant($"loss {loss:F4}"))),
        };
        loop.Train(network, train, generator, null, cancellationToken);
    }

    static bool StartsWithMagic(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var head = new byte[Magic.Length + 1];
            int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            return read == head.Length && Encoding.ASCII.GetString(head) == Magic + "\n";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The entry at <paramref name="path"/> loaded into <paramref name="network"/>; null (with a warning) when it is stale or damaged.</summary>
    static (double Accuracy, double Seconds)? TryRead(string path, string key, nn.Module<Tensor, Tensor> network, ILogger? logger)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            var header = ReadLine(stream);
            var json = JsonNode.Parse(ReadLine(stream)) as JsonObject;
            if (header != Magic || json is null || (string?)json["key"] != key)
            {
                logger?.LogWarning("{Message}", $"teacher cache file {path} does not hold key {key}; training anew");
                return null;
            }
            network.load(reader);
            return ((double)json["testAccuracy"]! / 100, (double?)json["trainSeconds"] ?? 0);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or FormatException or ArgumentException or EndOfStreamException or NullReferenceException)
        {
            logger?.LogWarning("{Message}", $"teacher cache file {path} cannot be read ({e.Message}); training anew");
            return null;
        }
    }

    static void Write(string path, string key, nn.Module<Tensor, Tensor> network, TeacherOptions options, string dataName, long seed, int? resolution,
        int channels, int height, int width, int classes, double accuracy, double seconds)
    {
        var json = new JsonObject
        {
            ["key"] = key,
            ["architecture"] = options.Architecture.Name,
            ["settings"] = options.Summary,
            ["data"] = dataName,
            ["seed"] = seed,
            ["resolution"] = resolution,
            ["shape"] = new JsonArray(channels, height, width),
            ["classes"] = classes,
            ["testAccuracy"] = accuracy * 100,
            ["trainSeconds"] = Math.Round(seconds, 1),
            ["createdUtc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        };
        try
        {
            AtomicFile.Write(path, stream =>
            {
                stream.Write(Encoding.UTF8.GetBytes(Magic + "\n" + json.ToJsonString() + "\n"));
                using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                network.save(writer);
                writer.Flush();
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"Teacher cache folder '{Path.GetDirectoryName(path)}' cannot be written ({e.Message}); expected a writable folder (choose another with the teacher cache option).", e);
        }
    }

    /// <summary>Bytes up to the next '\n' (not included), as UTF-8; the stream is left just after it.</summary>
    static string ReadLine(Stream stream)
    {
        var bytes = new List<byte>();
        for (int b = stream.ReadByte(); b != '\n'; b = stream.ReadByte())
        {
            if (b < 0) throw new EndOfStreamException("The teacher file ends inside its header.");
            if (bytes.Count > 1 << 20) throw new FormatException("The teacher file's header line is longer than 1 MiB.");
            bytes.Add((byte)b);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
