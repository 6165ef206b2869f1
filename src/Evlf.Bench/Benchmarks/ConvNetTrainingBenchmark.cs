using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Evaluation;
using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// ConvNet-3 training under the DSA protocol on 100 real images (IPC 10) of the bench's data, tested on 500: images per
/// second, the GFLOP/s that implies, and the minutes of one IPC 10 × 1000-epoch evaluation. It must run before any
/// importer module exists: importing a graph with convolutions moves libtorch's convolutions off oneDNN for the process
/// (ConvolutionBackend), while `evlf eval`, which imports nothing, trains on oneDNN (about 1.8× faster here).
/// </summary>
public sealed class ConvNetTrainingBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        var o = context.Options;
        var dataset = DataSpec.Open(o.Data);
        using var scope = NewDisposeScope();
        var chosen = RandomSelection.Select(dataset.Train, dataset.ClassNames.Count, 10, 0);
        var normalization = DatasetNormalization.For(DataSpec.Parse(o.Data), dataset);
        using var train = LabelledImages.Load(dataset.Train, normalization, dataset.Channels, 28, 28, chosen.SelectMany(c => c).ToList());
        using var test = LabelledImages.Load(dataset.Test, normalization, dataset.Channels, 28, 28, Enumerable.Range(0, 500).ToList());
        int epochs = o.Quick ? 50 : 200;
        var result = new DsaProtocol(new DsaProtocolOptions { Epochs = epochs }).Run(ClassifierArchitecture.ConvNet3, train, test, dataset.ClassNames.Count, 0);
        double imagesPerSecond = result.ImagesPerSecond;
        // ConvNet-3 (width 128, 28×28 padded to 32×32): ≈ 97 MFLOP forward per image, ×3 for training.
        double gflops = imagesPerSecond * 3 * 97e6 / 1e9;
        context.Report["convnet3_training"] = new JsonObject
        {
            ["images_per_second"] = Math.Round(imagesPerSecond, 1), ["implied_gflops"] = Math.Round(gflops, 1),
            ["seconds_per_ipc10_1000_epochs"] = Math.Round(100 * 1000 / imagesPerSecond, 1),
        };
        context.Output.Line(FormattableString.Invariant($"ConvNet-3 DSA training: {imagesPerSecond:F0} images/s ≈ {gflops:F0} GFLOP/s; IPC 10 × 1000 epochs ≈ {100 * 1000 / imagesPerSecond / 60:F1} min"));
    }
}
