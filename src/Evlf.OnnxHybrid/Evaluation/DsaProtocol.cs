using System.Diagnostics;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// The DC/DSA evaluation protocol (DESIGN §7): train a fresh classifier on the synthetic set with SGD
/// (lr 0.01, momentum 0.9, weight decay 5e-4, batch 256) and cross-entropy for <see cref="Epochs"/> epochs,
/// every batch augmented by <see cref="DsaAugmentation"/>, the learning rate ×0.1 from epoch ⌊E/2⌋ (a new
/// optimiser, so momentum restarts, as DC's evaluate_synset); then report test accuracy after the last epoch.
/// DC's code runs E + 1 epochs and decays after epoch E/2 + 1 (502 epochs at 0.01 and 499 at 0.001 for
/// E = 1000); this runs exactly E epochs, half at each rate.
/// </summary>
public sealed class DsaProtocol : IEvaluationProtocol
{
    private readonly DsaAugmentation augmentation;

    public DsaProtocol(DsaProtocolOptions? options = null)
    {
        Options = options ?? new DsaProtocolOptions();
        if (Options.Epochs < 1) throw new UserInputException($"Epochs must be 1 or more; got {Options.Epochs}.");
        if (Options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), Options.BatchSize, "Batch size must be at least 1.");
        augmentation = new DsaAugmentation(Options.Augmentation);
    }

    public DsaProtocolOptions Options { get; }

    public string Name => "dsa";

    public int Epochs => Options.Epochs;

    public string Summary => FormattableString.Invariant(
        $"SGD lr {Options.LearningRate} momentum {Options.Momentum} weight decay {Options.WeightDecay}, batch {Options.BatchSize}, lr x{Options.DecayFactor} from epoch {Options.Epochs / 2} (momentum restarts), DSA {(augmentation.Ops.Count == 0 ? "none" : Options.Augmentation.Strategy)} (one op per batch, per-sample parameters), cross-entropy");

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based): lr before ⌊E/2⌋, lr·0.1 from it on.</summary>
    public double LearningRateAt(int epoch) => epoch < Options.Epochs / 2 ? Options.LearningRate : Options.LearningRate * Options.DecayFactor;

    public ProtocolResult Run(ClassifierArchitecture architecture, LabelledImages train, LabelledImages test, int classes, long seed,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        using var model = architecture.Create(train.Channels, train.Height, train.Width, classes, seed);
        if (device is not null) model.to(device);  // initialised on the CPU: the same weights wherever it trains
        using var generator = new Generator(Seeds.EvaluationData(seed), CPU);
        var loop = new MiniBatchSgd
        {
            Epochs = Options.Epochs,
            BatchSize = Options.BatchSize,
            Momentum = Options.Momentum,
            WeightDecay = Options.WeightDecay,
            LearningRateAt = LearningRateAt,
            ResetMomentumOnRateChange = true,
            Loss = (net, x, y, g) => F.cross_entropy(net.call(augmentation.Apply(x, g)), y),
        };
        var (loss, trainSeconds, images) = loop.Train(model, train, generator, progress, cancellationToken);
        var watch = Stopwatch.StartNew();
        double accuracy = ClassifierAccuracy.Measure(model, test, Options.TestBatchSize, cancellationToken);
        return new ProtocolResult(accuracy, loss, trainSeconds, watch.Elapsed.TotalSeconds, images);
    }

}
