using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// How a classifier is trained on a (synthetic) training set and tested on a real test split: optimiser,
/// schedule, augmentation, epochs. One call trains one freshly initialised network.
/// </summary>
public interface IEvaluationProtocol
{
    /// <summary>Short name written to eval.json ("dsa", "idc").</summary>
    string Name { get; }

    /// <summary>Training epochs.</summary>
    int Epochs { get; }

    /// <summary>The settings in one line, for eval.json (optimiser, batch, schedule, augmentation).</summary>
    string Summary { get; }

    /// <summary>
    /// Trains a new <paramref name="architecture"/> network, initialised from <paramref name="seed"/>, on
    /// <paramref name="train"/> and returns its accuracy on <paramref name="test"/> after the last epoch.
    /// Deterministic for a seed on a given machine and thread count. The network trains on <paramref name="device"/> (null: the
    /// CPU, see <see cref="ComputeDevice"/>); its initial weights and every random draw come from the CPU whatever the device.
    /// </summary>
    ProtocolResult Run(ClassifierArchitecture architecture, LabelledImages train, LabelledImages test, int classes, long seed,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, TorchSharp.torch.Device? device = null);
}

/// <summary>The outcome of one <see cref="IEvaluationProtocol.Run"/>.</summary>
/// <param name="TestAccuracy">Fraction of the test split classified correctly after the last epoch.</param>
/// <param name="FinalLoss">Mean training loss of the last epoch.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="TestSeconds">Wall time of the test pass.</param>
/// <param name="TrainImages">Training images processed (epochs × images).</param>
public sealed record ProtocolResult(double TestAccuracy, double FinalLoss, double TrainSeconds, double TestSeconds, long TrainImages)
{
    /// <summary>Training throughput, images per second.</summary>
    public double ImagesPerSecond => TrainSeconds > 0 ? TrainImages / TrainSeconds : 0;
}
