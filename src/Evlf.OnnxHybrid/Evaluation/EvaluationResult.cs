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
    public double Std => Accuracies.Count == 0 ? double.NaN : Math.Sqrt(Accuracies.Sum(a => (a - Mean) * (a - Mean)) / Accuracies.Count);

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
            ["createdUtc"] = DateTime.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically: a temporary file in the same folder, then a rename over the target.</summary>
    public void Write(string path)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew))
            {
                JsonSerializer.Serialize(stream, ToJson(), new JsonSerializerOptions { WriteIndented = true });
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
