using Microsoft.Extensions.Logging;
using System.Diagnostics;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Pretraining;

/// <summary>Class fidelity of one denoiser: how often a real-data classifier agrees with the intended class.</summary>
public sealed record DenoiserFidelity(string Denoiser, double Accuracy, double[] PerClass, int Samples, double Cfg, int Steps, double Seconds);

/// <summary>The classifier behind the fidelity numbers and how it was trained.</summary>
public sealed record FidelityClassifier(string Model, int Epochs, int BatchSize, double LearningRate, double TestAccuracy, double Seconds);

/// <summary>
/// Judges a Fashion-MNIST bundle's denoisers: trains a ConvNet-3 (instance norm, width 128) on the whole real
/// training split (4 epochs of SGD, lr 0.01 then 0.001 in the last epoch, momentum 0.9, weight decay 5e-4,
/// batch 256, no augmentation, mean/std normalisation), checks it on the real test split, then samples n images per class from each denoiser
/// (cfg 4, 50 steps), crops the 32×32 samples back to 28×28 and reports the share classified as intended.
/// </summary>
public static class FidelityCheck
{
    public static (FidelityClassifier Classifier, List<DenoiserFidelity> Denoisers) Run(ModelBundle bundle, ImageDataset dataset, int perClass = 100,
        int epochs = 4, int seed = 0, ILogger? logger = null, CancellationToken cancellationToken = default, string? cacheDir = null, Device? device = null)
    {
        var (mean, std) = FashionMnist.Statistics;
        var normalization = Normalization.MeanStd(new[] { mean }, new[] { std });
        using var train = LabelledImages.Load(dataset.Train, normalization, 1, 28, 28);
        using var test = LabelledImages.Load(dataset.Test, normalization, 1, 28, 28);
        // The classifier depends only on the real data, the seed and the epochs: a cached one is reused.
        string? weights = cacheDir is null ? null : Path.Combine(cacheDir, FormattableString.Invariant($"fidelity-convnet3-s{seed}-e{epochs}.dat"));
        string? record = weights is null ? null : weights + ".json";
        using var net = ClassifierArchitecture.ConvNet3.Create(1, 28, 28, dataset.ClassNames.Count, seed);
        FidelityClassifier classifier;
        if (weights is not null && File.Exists(weights) && File.Exists(record))
        {
            net.load(weights);
            net.eval();
            classifier = System.Text.Json.JsonSerializer.Deserialize<FidelityClassifier>(File.ReadAllText(record))!;
            logger?.LogInformation("{Message}", FormattableString.Invariant($"fidelity classifier: {classifier.TestAccuracy:F2}% on the real test split (cached)"));
        }
        else
        {
            var clock = Stopwatch.StartNew();
            // The evaluation protocols' own loop and initialisation (no augmentation).
            using var generator = new Generator(Seeds.Derive(seed, SeedStream.FidelityJudge));
            var loop = new MiniBatchSgd
            {
                Epochs = epochs,
                BatchSize = 256,
                Momentum = 0.9,
                WeightDecay = 5e-4,
                LearningRateAt = e => e < epochs - 1 ? 0.01 : 0.001,
                Loss = (model, x, y, _) => nn.functional.cross_entropy(model.call(x), y),
            };
            // Initialised on the CPU (the same weights whatever the device), trained where asked, back on the CPU to judge and save.
            if (device is not null) net.to(device);
            loop.Train(net, train, generator, null, cancellationToken);
            if (device is not null) net.to(CPU);
            net.eval();
            double testAccuracy = ClassifierAccuracy.Measure(net, test);
            classifier = new FidelityClassifier("convnet3-instance", epochs, 256, 0.01, Math.Round(100 * testAccuracy, 2), Math.Round(clock.Elapsed.TotalSeconds, 1));
            logger?.LogInformation("{Message}", FormattableString.Invariant($"fidelity classifier: {classifier.TestAccuracy:F2}% on the real test split"));
            if (weights is not null)
            {
                Directory.CreateDirectory(cacheDir!);
                AtomicFile.WriteVia(weights, temp => net.save(temp));
                AtomicFile.WriteJson(record!, classifier);
            }
        }

        var results = new List<DenoiserFidelity>();
        using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu));
        foreach (var name in bundle.Manifest.Denoisers.Keys)
        {
            var sampleClock = Stopwatch.StartNew();
            var perClassAccuracy = new double[bundle.Manifest.Classes.Count];
            for (int c = 0; c < perClassAccuracy.Length; c++)
            {
                using var scope = NewDisposeScope();
                var latents = runtime.Sample(name, c, perClass, new SampleOptions(50, 4.0), new Generator(Seeds.Derive(seed, SeedStream.ClassSampling, c)), cancellationToken: cancellationToken);
                var images = runtime.Decode(latents);
                int pad = (bundle.Manifest.Image.Size - 28) / 2;
                var crop = images.narrow(2, pad, 28).narrow(3, pad, 28);
                var normalized = ((crop.clamp(-1, 1) + 1) / 2 - mean) / std;
                using (no_grad())
                    perClassAccuracy[c] = net.call(normalized).argmax(1).eq(c).to(ScalarType.Float32).mean().item<float>();
            }
            var fidelity = new DenoiserFidelity(name, Math.Round(100 * perClassAccuracy.Average(), 2), perClassAccuracy.Select(a => Math.Round(100 * a, 1)).ToArray(),
                perClass * perClassAccuracy.Length, 4.0, 50, Math.Round(sampleClock.Elapsed.TotalSeconds, 1));
            logger?.LogInformation("{Message}", FormattableString.Invariant($"fidelity {name}: {fidelity.Accuracy:F2}% of {fidelity.Samples} samples classified as intended"));
            results.Add(fidelity);
        }
        return (classifier, results);
    }
}
