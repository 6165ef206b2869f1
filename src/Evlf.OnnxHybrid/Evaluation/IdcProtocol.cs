using System.Diagnostics;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// The IDC evaluation protocol (docs/PIPELINES.md §5), used by Minimax, MGD3 and EVLF on ImageNet subsets:
/// SGD (lr 0.01, momentum 0.9, weight decay 5e-4, batch 64), MultiStepLR ×0.2 at ⌊2E/3⌋ and ⌊5E/6⌋ (momentum
/// carries over), <see cref="IdcAugmentation"/> on every image in [0, 1] space, then normalisation, then CutMix
/// on the batch (λ ~ U(0, 1), partner = a random permutation, box as IDC's rand_bbox, loss
/// ratio·CE(y) + (1 − ratio)·CE(y_partner) with ratio the unmixed area). Hard labels. Reports the test accuracy
/// after the last epoch (the anchors report the best epoch).
/// </summary>
public sealed class IdcProtocol : IEvaluationProtocol
{
    private readonly IdcAugmentation augmentation;
    private readonly float[] mean, std;

    /// <param name="normalization">The mean/std normalisation the training images carry (undone for the augmentation, then redone).</param>
    /// <param name="channels">Channels of the images.</param>
    /// <param name="epochs">Training epochs (see <see cref="EpochsFor"/>).</param>
    /// <param name="options">Everything else.</param>
    public IdcProtocol(Normalization normalization, int channels, int epochs, IdcProtocolOptions? options = null)
    {
        Options = options ?? new IdcProtocolOptions();
        if (epochs < 1) throw new UserInputException($"Epochs must be 1 or more; got {epochs}.");
        Epochs = epochs;
        augmentation = new IdcAugmentation(Options.Augmentation);
        mean = new float[channels];
        std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            // The normalisation maps byte v to (v/255 − m)/s: recover m and s from two of its values.
            float v0 = normalization.Apply(0, c), v255 = normalization.Apply(255, c);
            std[c] = 1f / (v255 - v0);
            mean[c] = -v0 * std[c];
        }
    }

    public IdcProtocolOptions Options { get; }

    public string Name => "idc";

    public int Epochs { get; }

    public string Summary => FormattableString.Invariant(
        $"SGD lr {Options.LearningRate} momentum {Options.Momentum} weight decay {Options.WeightDecay}, batch {Options.BatchSize}, MultiStepLR x{Options.Gamma} at epochs {2 * Epochs / 3} and {5 * Epochs / 6}, RandomResizedCrop(scale {Options.Augmentation.CropScaleMin}-{Options.Augmentation.CropScaleMax}), flip, colour jitter ({Options.Augmentation.Brightness}, {Options.Augmentation.Contrast}, {Options.Augmentation.Saturation}), lighting {Options.Augmentation.LightingStd} (RGB only), CutMix p {Options.CutMixProbability}, cross-entropy");

    /// <summary>
    /// IDC's epoch table for 10 classes: IPC 1 → 3000, ≤ 10 → 2000, ≤ 50 → 1500, ≤ 200 → 1000, ≤ 500 → 500, else 300;
    /// for 100 or more classes two thirds of that, rounded down to a multiple of 100.
    /// </summary>
    public static int EpochsFor(int ipc, int classes)
    {
        int e = ipc <= 1 ? 3000 : ipc <= 10 ? 2000 : ipc <= 50 ? 1500 : ipc <= 200 ? 1000 : ipc <= 500 ? 500 : 300;
        return classes >= 100 ? e * 2 / 3 / 100 * 100 : e;
    }

    /// <summary>Learning rate of epoch e (0-based): lr·γ^(number of milestones ⌊2E/3⌋, ⌊5E/6⌋ that are ≤ e).</summary>
    public double LearningRateAt(int epoch)
    {
        int passed = (epoch >= 2 * Epochs / 3 ? 1 : 0) + (epoch >= 5 * Epochs / 6 ? 1 : 0);
        return Options.LearningRate * Math.Pow(Options.Gamma, passed);
    }

    public ProtocolResult Run(ClassifierArchitecture architecture, LabelledImages train, LabelledImages test, int classes, long seed,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        using var model = architecture.Create(train.Channels, train.Height, train.Width, classes, seed);
        if (device is not null) model.to(device);  // initialised on the CPU: the same weights wherever it trains
        using var generator = new Generator(Seeds.EvaluationData(seed), CPU);
        using var m = tensor(mean, [1, mean.Length, 1, 1]);
        using var s = tensor(std, [1, std.Length, 1, 1]);
        var loop = new MiniBatchSgd
        {
            Epochs = Epochs,
            BatchSize = Options.BatchSize,
            Momentum = Options.Momentum,
            WeightDecay = Options.WeightDecay,
            LearningRateAt = LearningRateAt,
            ResetMomentumOnRateChange = false,
            Loss = (net, x, y, g) =>
            {
                var unit = x * s.to(x.device) + m.to(x.device);
                var input = (augmentation.Apply(unit, g) - m.to(x.device)) / s.to(x.device);
                using var r = rand([1], dtype: float64, generator: g);
                if (r.item<double>() >= Options.CutMixProbability) return F.cross_entropy(net.call(input), y);
                var (mixed, partner, ratio) = CutMix(input, y, g);
                var output = net.call(mixed);
                return F.cross_entropy(output, y) * ratio + F.cross_entropy(output, partner) * (1 - ratio);
            },
        };
        var (loss, trainSeconds, images) = loop.Train(model, train, generator, progress, cancellationToken);
        var watch = Stopwatch.StartNew();
        double accuracy = ClassifierAccuracy.Measure(model, test, Options.TestBatchSize, cancellationToken);
        return new ProtocolResult(accuracy, loss, trainSeconds, watch.Elapsed.TotalSeconds, images);
    }

    /// <summary>
    /// IDC's CutMix: λ ~ U(0, 1); cut side int(size·√(1 − λ)) per axis around a uniform centre, clipped; the box is
    /// copied from a random permutation of the batch. Returns the mixed batch, the partners' labels and the
    /// unmixed area fraction.
    /// </summary>
    public static (Tensor Mixed, Tensor PartnerLabels, double Ratio) CutMix(Tensor x, Tensor y, Generator generator)
    {
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        using var draws = rand([3], dtype: float64, generator: generator);
        var u = draws.data<double>().ToArray();
        var partner = randperm(n, generator: generator).to(x.device);
        double cut = Math.Sqrt(1 - u[0]);
        long cutH = (long)(h * cut), cutW = (long)(w * cut);
        long cy = Math.Min(h - 1, (long)(u[1] * h)), cx = Math.Min(w - 1, (long)(u[2] * w));
        long y1 = Math.Clamp(cy - cutH / 2, 0, h), y2 = Math.Clamp(cy + cutH / 2, 0, h);
        long x1 = Math.Clamp(cx - cutW / 2, 0, w), x2 = Math.Clamp(cx + cutW / 2, 0, w);
        var mixed = x.clone();
        if (y2 > y1 && x2 > x1)
        {
            using var box = x.index_select(0, partner).narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1);
            mixed.narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1).copy_(box);
        }
        double ratio = 1 - (double)(y2 - y1) * (x2 - x1) / (h * w);
        return (mixed, y.index_select(0, partner), ratio);
    }
}
