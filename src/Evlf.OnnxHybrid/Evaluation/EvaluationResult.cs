using System.Text.Json;
using System.Text.Json.Nodes;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// What <c>evlf eval</c> measured for one synthetic set: every repeat's test accuracy (percent) and their mean
/// and population standard deviation (ddof 0, as DC/DSA's np.std), with the settings that produced them.
/// Written as <c>eval.json</c>.
/// </summary>
public sealed record EvaluationResult
{
    public const string FileName = "eval.json";

    /// <summary>
    /// Set for a sharded evaluation (<see cref="EvaluationOptions.Shards"/>) that did not write eval.json: a shard's own
    /// repeats, or the finishing run waiting for shards. Not written to the file.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Sharding.ShardWait? Waiting { get; init; }

    public string? Method { get; init; }
    public int? Ipc { get; init; }
    public required string Model { get; init; }
    public required string Protocol { get; init; }

    /// <summary>The protocol's settings in words (<see cref="IEvaluationProtocol.Summary"/>).</summary>
    public string? ProtocolSettings { get; init; }
    public required int Epochs { get; init; }
    public required long Seed { get; init; }

    /// <summary>Seed of each repeat (seed, seed + 1, …): a single repeat with one of them reproduces that repeat.</summary>
    public required IReadOnlyList<long> Seeds { get; init; }

    /// <summary>Test accuracy of each repeat after the last epoch, percent.</summary>
    public required IReadOnlyList<double> Accuracies { get; init; }

    public double Mean => Accuracies.Count == 0 ? double.NaN : Accuracies.Average();

    /// <summary>Population standard deviation (ddof 0) of <see cref="Accuracies"/>.</summary>
    public double Std => Accuracies.Count == 0 ? double.NaN : PopulationStd(Accuracies);

    /// <summary>Population standard deviation (ddof 0) of <paramref name="values"/>, the spread every evlf result reports; at least one value.</summary>
    internal static double PopulationStd(IReadOnlyCollection<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
    }

    /// <summary>Wall time of the whole evaluation, loading included.</summary>
    public required double WallSeconds { get; init; }

    /// <summary>Training time of each repeat.</summary>
    public required IReadOnlyList<double> TrainSeconds { get; init; }

    /// <summary>Training images (after augmentation) per second, over all repeats.</summary>
    public double ImagesPerSecond => TrainSeconds.Sum() is var s and > 0 ? TrainImages / s : 0;

    public required long TrainImages { get; init; }
    public required string Data { get; init; }
    public required string Synthetic { get; init; }
    public required int Images { get; init; }
    public required IReadOnlyList<int> ImagesPerClass { get; init; }
    public required int TestImages { get; init; }
    public required int Threads { get; init; }

    /// <summary>Set when the synthetic images had another size than the test images and were resized (e.g. "32x32").</summary>
    public string? ResizedFrom { get; init; }

    /// <summary>The <see cref="EvaluationOptions.Resolution"/> the images were brought to, when one was given.</summary>
    public int? Resolution { get; init; }

    /// <summary>SHA-256 of the synthetic set's images (<see cref="SyntheticSetEvaluation.SetDigest"/>): which images these accuracies belong to.</summary>
    public string? SetDigest { get; init; }

    /// <summary>Soft-label evaluation only (protocol "soft"): the preset, e.g. "rded" or "d4m".</summary>
    public string? SoftLabelPreset { get; init; }

    /// <summary>Soft-label evaluation only: the teacher's network, e.g. "convnet3".</summary>
    public string? Teacher { get; init; }

    /// <summary>Soft-label evaluation only: the teacher's accuracy on the real test split, percent.</summary>
    public double? TeacherAccuracy { get; init; }

    /// <summary>Soft-label evaluation only: the teacher's cache key (<see cref="Evaluation.Teacher.KeyOf"/>).</summary>
    public string? TeacherKey { get; init; }

    /// <summary>Soft-label evaluation only: the softmax temperature T.</summary>
    public double? Temperature { get; init; }

    public JsonObject ToJson()
    {
        static JsonArray Array<T>(IEnumerable<T> values) => new(values.Select(v => JsonValue.Create(v)).ToArray<JsonNode?>());
        return new JsonObject
        {
            ["method"] = Method,
            ["ipc"] = Ipc,
            ["model"] = Model,
            ["protocol"] = Protocol,
            ["protocolSettings"] = ProtocolSettings,
            ["epochs"] = Epochs,
            ["repeats"] = Accuracies.Count,
            ["seed"] = Seed,
            ["seeds"] = Array(Seeds),
            ["accuracies"] = Array(Accuracies),
            ["mean"] = Mean,
            ["std"] = Std,
            ["stdKind"] = "population (ddof 0)",
            ["accuracyAt"] = "last epoch",
            ["wallSeconds"] = WallSeconds,
            ["trainSeconds"] = Array(TrainSeconds),
            ["trainImages"] = TrainImages,
            ["imagesPerSecond"] = ImagesPerSecond,
            ["threads"] = Threads,
            ["data"] = Data,
            ["synthetic"] = Synthetic,
            ["images"] = Images,
            ["imagesPerClass"] = Array(ImagesPerClass),
            ["testImages"] = TestImages,
            ["resizedFrom"] = ResizedFrom,
            ["resolution"] = Resolution,
            ["setDigest"] = SetDigest,
            ["softLabelPreset"] = SoftLabelPreset,
            ["teacher"] = Teacher,
            ["teacherAccuracy"] = TeacherAccuracy,
            ["teacherKey"] = TeacherKey,
            ["temperature"] = Temperature,
            ["createdUtc"] = DateTime.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// True when <paramref name="other"/> evaluates the same images (<see cref="SetDigest"/>) the same way: data, model,
    /// protocol and its settings, epochs, base seed and resolution, and for soft labels the same teacher (key and accuracy)
    /// and temperature. Accuracies, times and threads may differ.
    /// </summary>
    public bool SameSettings(EvaluationResult other) =>
        SetDigest is not null && SetDigest == other.SetDigest && Data == other.Data && Model == other.Model &&
        Protocol == other.Protocol && ProtocolSettings == other.ProtocolSettings && Epochs == other.Epochs &&
        Seed == other.Seed && Resolution == other.Resolution && SoftLabelPreset == other.SoftLabelPreset &&
        Teacher == other.Teacher && TeacherKey == other.TeacherKey && TeacherAccuracy == other.TeacherAccuracy && Temperature == other.Temperature;

    /// <summary>Reads an eval.json as <see cref="Write"/> writes it; null when the file is missing or not such a file.</summary>
    public static EvaluationResult? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject o) return null;
            static double[] Doubles(JsonNode? n) => (n as JsonArray)?.Select(v => v!.GetValue<double>()).ToArray() ?? [];
            var accuracies = Doubles(o["accuracies"]);
            var seeds = (o["seeds"] as JsonArray)?.Select(v => v!.GetValue<long>()).ToArray() ?? [];
            var seconds = Doubles(o["trainSeconds"]);
            if (seeds.Length != accuracies.Length || seconds.Length != accuracies.Length) return null;
            return new EvaluationResult
            {
                Method = (string?)o["method"],
                Ipc = (int?)o["ipc"],
                Model = (string?)o["model"] ?? "",
                Protocol = (string?)o["protocol"] ?? "",
                ProtocolSettings = (string?)o["protocolSettings"],
                Epochs = (int?)o["epochs"] ?? 0,
                Seed = (long?)o["seed"] ?? 0,
                Seeds = seeds,
                Accuracies = accuracies,
                WallSeconds = (double?)o["wallSeconds"] ?? 0,
                TrainSeconds = seconds,
                TrainImages = (long?)o["trainImages"] ?? 0,
                Data = (string?)o["data"] ?? "",
                Synthetic = (string?)o["synthetic"] ?? "",
                Images = (int?)o["images"] ?? 0,
                ImagesPerClass = (o["imagesPerClass"] as JsonArray)?.Select(v => v!.GetValue<int>()).ToArray() ?? [],
                TestImages = (int?)o["testImages"] ?? 0,
                Threads = (int?)o["threads"] ?? 0,
                ResizedFrom = (string?)o["resizedFrom"],
                Resolution = (int?)o["resolution"],
                SetDigest = (string?)o["setDigest"],
                SoftLabelPreset = (string?)o["softLabelPreset"],
                Teacher = (string?)o["teacher"],
                TeacherAccuracy = (double?)o["teacherAccuracy"],
                TeacherKey = (string?)o["teacherKey"],
                Temperature = (double?)o["temperature"],
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException)
        {
            return null;
        }
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically (<see cref="AtomicFile"/>).</summary>
    public void Write(string path) => AtomicFile.WriteJson(path, ToJson());
}
