using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Sharding;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>Settings of <see cref="SyntheticSetEvaluation.Run(string, ImageDataset, string, EvaluationOptions, IProgress{WorkProgress}?, CancellationToken)"/>.</summary>
public sealed record EvaluationOptions
{
    public ClassifierArchitecture Model { get; init; } = ClassifierArchitecture.ConvNet3;
    public IEvaluationProtocol Protocol { get; init; } = new DsaProtocol();

    /// <summary>Independently initialised classifiers to train; repeat r uses seed <see cref="Seed"/> + r.</summary>
    public int Repeats { get; init; } = 5;

    public long Seed { get; init; }

    /// <summary>Pixel normalisation of training and test images (see <see cref="DatasetNormalization"/>).</summary>
    public required Normalization Normalization { get; init; }

    /// <summary>
    /// When set, every image (synthetic and test) is resized so its shorter side has this length and centre-cropped to
    /// a square (torchvision Resize + CenterCrop, as IDC prepares ImageNet). When null, synthetic images are resized to the
    /// size of the test images, which must all have one size.
    /// </summary>
    public int? Resolution { get; init; }

    /// <summary>
    /// Keep the repeats an earlier evaluation of the same images with the same settings finished (from eval.json, or
    /// from the partial file a killed run leaves) and train only the missing ones; repeat r always uses seed
    /// <see cref="Seed"/> + r, so a kept repeat is the one that would have been trained. <see cref="SyntheticSetEvaluation.RunAndWrite"/>
    /// saves the partial file after every repeat.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Splits the repeats over processes (<see cref="ShardSpec"/>): shard I trains a contiguous range of the repeats
    /// (<see cref="Partition.Range"/>) into a part file in the run folder; the finishing run merges the parts, in repeat
    /// order, into eval.json once all are finished. Repeat r has seed <see cref="Seed"/> + r whichever process trains it,
    /// so on one machine with one thread count any split gives the accuracies of one process.
    /// </summary>
    public ShardSpec? Shards { get; init; }

    /// <summary>Where the classifiers train (<see cref="ComputeDevice"/>): auto (CUDA when libtorch has it, else the CPU), cpu or cuda.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;

    /// <summary>Where notices go: the once-per-process note that auto trains on the CPU (Information).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}


/// <summary>
/// <c>evlf eval</c>: trains classifiers on a synthetic set (a run folder with images/&lt;class&gt;/&lt;n&gt;.png and
/// manifest.json) and tests them on the real dataset's test split.
/// </summary>
public static class SyntheticSetEvaluation
{
    /// <summary>
    /// Loads the set at <paramref name="runDirectory"/>, checks its classes against <paramref name="real"/>'s,
    /// runs <see cref="EvaluationOptions.Repeats"/> trainings and returns the accuracies (eval.json is written by the caller
    /// or <see cref="RunAndWrite"/>). Problems with the run folder are <see cref="UserInputException"/>s.
    /// </summary>
    public static EvaluationResult Run(string runDirectory, ImageDataset real, string dataName, EvaluationOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(runDirectory, real, dataName, options, progress, checkpoint: null, 0, options.Repeats, now => options.Resume ? FinishedEarlier(runDirectory, now) : null, cancellationToken);

    /// <summary>Name of the file holding the finished repeats of an evaluation that has not finished yet.</summary>
    public const string PartialFileName = ".eval.partial.json";

    /// <summary>Trains repeats <paramref name="from"/> to <paramref name="from"/> + <paramref name="repeatCount"/> − 1, keeping the leading ones <paramref name="earlier"/> finished.</summary>
    static EvaluationResult Run(string runDirectory, ImageDataset real, string dataName, EvaluationOptions options,
        IProgress<WorkProgress>? progress, Action<EvaluationResult>? checkpoint, int from, int repeatCount,
        Func<EvaluationResult, EvaluationResult?> earlier, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        if (options.Repeats < 1) throw new UserInputException($"Repeats must be 1 or more; got {options.Repeats}.");
        if (!Directory.Exists(runDirectory))
            throw new UserInputException($"Run folder '{runDirectory}' does not exist; expected a folder with images/<class>/<n>.png and manifest.json.");
        if (!SyntheticSetReader.IsSyntheticSet(runDirectory))
            throw new UserInputException($"Run folder '{runDirectory}' has no manifest.json and images/ folder; expected a synthetic set as evlf writes it.");
        if (real.Test.Count == 0)
            throw new UserInputException($"Dataset {real.Name} has no test split to evaluate on.");

        var synthetic = SyntheticSetReader.Open(runDirectory, new DatasetOptions(Channels: real.Channels));
        if (synthetic.Train.Count == 0)
            throw new UserInputException($"Synthetic set '{runDirectory}' has no images; its manifest lists {synthetic.ClassCount} classes with 0 images each.");
        var labelMap = MapClasses(synthetic.ClassNames, real.ClassNames, runDirectory, real.Name);

        var preprocess = options.Resolution is int size ? LabelledImages.ResizeAndCenterCrop(size) : null;
        var probe = real.Test.Load(0);
        int channels = real.Channels;
        int height = options.Resolution ?? probe.Height, width = options.Resolution ?? probe.Width;
        var first = synthetic.Train.Load(0);
        string? resizedFrom = first.Height != height || first.Width != width ? $"{first.Width}x{first.Height}" : null;

        // Resolved as the work starts, so the once-per-process CPU notice never precedes a problem with the inputs.
        var device = ComputeDevice.Resolve(options.Device, options.Logger, $"{nameof(EvaluationOptions)}.{nameof(EvaluationOptions.Device)}");
        using var train = LabelledImages.Load(synthetic.Train, options.Normalization, channels, height, width, labelMap: labelMap, preprocess: preprocess);
        using var test = LoadTest(real.Test, options.Normalization, channels, height, width, preprocess);
        var perClass = train.CountPerClass(real.ClassCount);

        var (method, ipc) = ReadManifest(runDirectory);
        string digest = SetDigest(runDirectory);
        var soft = options.Protocol as SoftLabelProtocol;
        EvaluationResult Snapshot(List<double> accuracies, List<double> seconds, List<long> seeds, long images, double earlierWall) => new()
        {
            Method = method,
            Ipc = ipc ?? (perClass.Distinct().Count() == 1 ? perClass[0] : null),
            Model = options.Model.Name,
            Protocol = options.Protocol.Name,
            ProtocolSettings = options.Protocol.Summary,
            Epochs = options.Protocol.Epochs,
            Seed = options.Seed,
            Seeds = seeds.ToArray(),
            Accuracies = accuracies.ToArray(),
            WallSeconds = earlierWall + wall.Elapsed.TotalSeconds,
            TrainSeconds = seconds.ToArray(),
            TrainImages = images,
            Data = dataName,
            Synthetic = Path.GetFullPath(runDirectory),
            Images = train.Count,
            ImagesPerClass = perClass,
            TestImages = test.Count,
            Threads = TorchSharp.torch.get_num_threads(),
            ResizedFrom = resizedFrom,
            Resolution = options.Resolution,
            SetDigest = digest,
            SoftLabelPreset = soft?.Options.Name,
            Teacher = soft?.Teacher.Options.Architecture.Name,
            TeacherAccuracy = soft is null ? null : Math.Round(soft.Teacher.TestAccuracy * 100, 4),
            TeacherKey = soft?.Teacher.Key,
            Temperature = soft?.Options.Temperature,
        };

        var accuracies = new List<double>();
        var seconds = new List<double>();
        var seeds = new List<long>();
        long images = 0;
        double earlierWall = 0;
        if (earlier(Snapshot(accuracies, seconds, seeds, 0, 0)) is { } finished
            && finished.Seeds.Take(repeatCount).SequenceEqual(Enumerable.Range(from, Math.Min(repeatCount, finished.Seeds.Count)).Select(r => Seeds.EvaluationRepeat(options.Seed, r))))
        {
            int kept = Math.Min(finished.Accuracies.Count, repeatCount);
            accuracies.AddRange(finished.Accuracies.Take(kept));
            seconds.AddRange(finished.TrainSeconds.Take(kept));
            seeds.AddRange(finished.Seeds.Take(kept));
            images = finished.TrainImages * kept / finished.Accuracies.Count;
            earlierWall = finished.WallSeconds;
            for (int k = 0; k < kept; k++)
                progress?.Report(new WorkProgress(RepeatTask(options, from + k, seeds[k]), options.Protocol.Epochs, options.Protocol.Epochs, Accuracy(accuracies[k])));
        }
        for (int r = from + accuracies.Count; r < from + repeatCount; r++)
        {
            long seed = Seeds.EvaluationRepeat(options.Seed, r);
            // Each repeat is one task: its classifier's epochs counting up, then its accuracy.
            var task = RepeatTask(options, r, seed);
            var inner = progress.Renamed(task);
            var result = options.Protocol.Run(options.Model, train, test, real.ClassCount, seed, inner, cancellationToken, device);
            accuracies.Add(result.TestAccuracy * 100);
            seconds.Add(result.TrainSeconds);
            seeds.Add(seed);
            images += result.TrainImages;
            progress?.Report(new WorkProgress(task, options.Protocol.Epochs, options.Protocol.Epochs, Accuracy(result.TestAccuracy * 100)));
            if (r < from + repeatCount - 1) checkpoint?.Invoke(Snapshot(accuracies, seconds, seeds, images, earlierWall));
        }
        return Snapshot(accuracies, seconds, seeds, images, earlierWall);
    }

    static string RepeatTask(EvaluationOptions options, int repeat, long seed) =>
        FormattableString.Invariant($"repeat {repeat + 1}/{options.Repeats} (seed {seed})");

    static string Accuracy(double percent) => FormattableString.Invariant($"accuracy {percent:F2}%");

    /// <summary>
    /// SHA-256 over the set's image files (relative path and bytes, in ordinal path order), so that accuracies kept for
    /// resuming belong to exactly these images.
    /// </summary>
    public static string SetDigest(string runDirectory)
    {
        var root = Path.Combine(runDirectory, "images");
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        // Links are neither followed nor read (two folder links back up made this walk visit 2^40 paths) and only
        // regular files are read (a FIFO would block it forever).
        var walk = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var file in Directory.GetFiles(root, "*", walk).Where(f => PathStatus.Of(f, followLinks: false).IsRegular)
                     .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\n"));
            hash.AppendData(File.ReadAllBytes(Path.Combine(root, file)));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The finished repeats of an earlier evaluation whose settings and images equal <paramref name="now"/>'s, from
    /// eval.json or the partial file of a stopped run, whichever holds more; null when neither matches (or neither can
    /// be read).
    /// </summary>
    static EvaluationResult? FinishedEarlier(string runDirectory, EvaluationResult now) =>
        new[] { EvaluationResult.FileName, PartialFileName }
            .Select(name => EvaluationResult.TryRead(Path.Combine(runDirectory, name)))
            .Where(earlier => earlier is { Accuracies.Count: > 0 } && earlier.SameSettings(now))
            .MaxBy(earlier => earlier!.Accuracies.Count);

    const string ResolutionOption = $"{nameof(EvaluationOptions)}.{nameof(EvaluationOptions.Resolution)}";

    static LabelledImages LoadTest(DatasetSplit test, Normalization normalization, int channels, int height, int width, Func<ByteImage, ByteImage>? preprocess)
    {
        if (preprocess is null)
            for (int i = 0; i < test.Count; i++)
            {
                if (test.InMemory && i > 0) break; // in-memory splits (IDX, CIFAR) have one size
                var image = test.Load(i);
                if (image.Height != height || image.Width != width)
                    throw UserInputException.ForOptions($"Test image {test.SourceOf(i)} is {image.Width}x{image.Height} but the first is {width}x{height}; set {ResolutionOption} to resize and centre-crop them all.", [ResolutionOption]);
            }
        return LabelledImages.Load(test, normalization, channels, height, width, preprocess: preprocess);
    }

    /// <summary>
    /// <see cref="Run(string, ImageDataset, string, EvaluationOptions, IProgress{WorkProgress}?, CancellationToken)"/>, then
    /// writes RUN_DIR/eval.json atomically. Split over shards (<see cref="EvaluationOptions.Shards"/>), a shard trains its
    /// repeats into its part file and returns them with <see cref="EvaluationResult.Waiting"/> set; the finishing run
    /// merges the parts into eval.json, or returns where it waits for shards.
    /// </summary>
    public static EvaluationResult RunAndWrite(string runDirectory, ImageDataset real, string dataName, EvaluationOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Shards is { } shards) return RunSharded(runDirectory, real, dataName, options, shards, progress, cancellationToken);
        var partial = Path.Combine(runDirectory, PartialFileName);
        var result = Run(runDirectory, real, dataName, options, progress, r => r.Write(partial), 0, options.Repeats,
            now => options.Resume ? FinishedEarlier(runDirectory, now) : null, cancellationToken);
        result.Write(Path.Combine(runDirectory, EvaluationResult.FileName));
        File.Delete(partial);
        return result;
    }

    /// <summary>The part file of shard <paramref name="index"/> of <paramref name="count"/> in the run folder: the repeats it finished.</summary>
    public static string PartFile(string runDirectory, int index, int count) =>
        Path.Combine(runDirectory, FormattableString.Invariant($".eval.part-{index}-of-{count}.json"));

    static EvaluationResult RunSharded(string runDirectory, ImageDataset real, string dataName, EvaluationOptions options, ShardSpec shards,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        shards.Validate();
        int n = shards.Count;
        // A part counts when it holds every repeat of its range, trained with these settings on these images.
        bool Finished(EvaluationResult now, int i, out EvaluationResult? part)
        {
            var (start, length) = Partition.Range(options.Repeats, n, i);
            part = EvaluationResult.TryRead(PartFile(runDirectory, i, n));
            return part is not null && part.SameSettings(now)
                && part.Seeds.SequenceEqual(Enumerable.Range(start, length).Select(r => Seeds.EvaluationRepeat(options.Seed, r)));
        }
        if (shards.Index is int index)
        {
            var (start, length) = Partition.Range(options.Repeats, n, index);
            string file = PartFile(runDirectory, index, n);
            var result = Run(runDirectory, real, dataName, options, progress, r => r.Write(file), start, length,
                now => EvaluationResult.TryRead(file) is { } earlier && earlier.SameSettings(now) ? earlier : null, cancellationToken);
            result.Write(file);
            var done = Enumerable.Range(0, n).Where(i => Finished(result, i, out _)).ToList();
            string repeats = length == 0 ? "no repeats" : length == 1 ? $"repeat {start + 1}" : $"repeats {start + 1}–{start + length}";
            return result with
            {
                Waiting = new ShardWait("eval", n, done, FormattableString.Invariant(
                    $"shard {index} of {n} finished {repeats} of {options.Repeats} ({done.Count} of {n} parts finished); the finishing run merges them once all are.")),
            };
        }

        var empty = Run(runDirectory, real, dataName, options, null, null, 0, 0, _ => null, cancellationToken);
        // Merged before: eval.json holds every repeat.
        if (EvaluationResult.TryRead(Path.Combine(runDirectory, EvaluationResult.FileName)) is { } written && written.SameSettings(empty)
            && written.Seeds.SequenceEqual(Enumerable.Range(0, options.Repeats).Select(r => Seeds.EvaluationRepeat(options.Seed, r))))
            return written;
        var parts = new EvaluationResult?[n];
        var finished = Enumerable.Range(0, n).Where(i => Finished(empty, i, out parts[i])).ToList();
        if (finished.Count < n) return empty with { Waiting = ShardWait.ForFinishingRun("eval", "the evaluation", n, finished) };
        var all = parts.Select(p => p!).ToList();
        var merged = empty with
        {
            Seeds = [.. all.SelectMany(p => p.Seeds)],
            Accuracies = [.. all.SelectMany(p => p.Accuracies)],
            TrainSeconds = [.. all.SelectMany(p => p.TrainSeconds)],
            TrainImages = all.Sum(p => p.TrainImages),
            WallSeconds = empty.WallSeconds + all.Sum(p => p.WallSeconds),
        };
        merged.Write(Path.Combine(runDirectory, EvaluationResult.FileName));
        for (int i = 0; i < n; i++) File.Delete(PartFile(runDirectory, i, n));
        return merged;
    }

    /// <summary>
    /// For each synthetic class, the real label with the same name (exact, else ignoring case). Every real class
    /// must appear exactly once, since the classifier is tested on all of them.
    /// </summary>
    public static int[] MapClasses(IReadOnlyList<string> syntheticNames, IReadOnlyList<string> realNames, string runDirectory, string realName)
    {
        var map = new int[syntheticNames.Count];
        var used = new HashSet<int>();
        for (int i = 0; i < syntheticNames.Count; i++)
        {
            var name = syntheticNames[i];
            int label = IndexOf(realNames, name, StringComparison.Ordinal);
            if (label < 0) label = IndexOf(realNames, name, StringComparison.OrdinalIgnoreCase);
            if (label < 0)
                throw new UserInputException($"Synthetic set '{runDirectory}' has class '{name}', which {realName} does not have; expected its classes: {string.Join(", ", realNames.Select(n => $"'{n}'"))}.");
            if (!used.Add(label))
                throw new UserInputException($"Synthetic set '{runDirectory}' lists class '{realNames[label]}' twice.");
            map[i] = label;
        }
        var missing = Enumerable.Range(0, realNames.Count).Where(l => !used.Contains(l)).Select(l => $"'{realNames[l]}'").ToArray();
        if (missing.Length > 0)
            throw new UserInputException($"Synthetic set '{runDirectory}' lacks class(es) {string.Join(", ", missing)} of {realName}; a classifier tested on every class needs every class in the set.");
        return map;

        static int IndexOf(IReadOnlyList<string> names, string name, StringComparison comparison)
        {
            for (int i = 0; i < names.Count; i++)
                if (string.Equals(names[i], name, comparison)) return i;
            return -1;
        }
    }

    /// <summary>The manifest's <c>method</c> and <c>ipc</c> (top level or under <c>options</c>), when present.</summary>
    static (string? Method, int? Ipc) ReadManifest(string runDirectory)
    {
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(runDirectory, SyntheticSetReader.ManifestFile)));
            var options = manifest?["options"] as JsonObject;
            string? method = Text(manifest?["method"]) ?? Text(options?["method"]);
            int? ipc = Integer(manifest?["ipc"]) ?? Integer(options?["ipc"]);
            return (method, ipc);
        }
        catch (JsonException)
        {
            return (null, null);
        }

        static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        static int? Integer(JsonNode? n) => n is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
    }
}
