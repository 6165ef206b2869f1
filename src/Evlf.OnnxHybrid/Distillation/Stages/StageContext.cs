using Microsoft.Extensions.Logging;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>What every stage of one run reads: the options, the data and its identity, the run folder and where progress goes.</summary>
/// <param name="Options">The run's options, already checked against the data and the bundle (<see cref="DistillInputs"/>).</param>
/// <param name="Dataset">The data, cut to <see cref="DistillOptions.MaxTrain"/>.</param>
/// <param name="DataId">The data's identity (<see cref="DataIdentity"/>): part of the keys of the stages that read it.</param>
/// <param name="Run">The run folder that caches each stage's output.</param>
/// <param name="Progress">Told the task, done of total and a status as a stage works.</param>
/// <param name="Logger">Where stages' notices go.</param>
/// <param name="CancellationToken">Stops a stage between its steps.</param>
internal sealed record StageContext(DistillOptions Options, ImageDataset Dataset, string DataId, RunFolder Run, IProgress<WorkProgress> Progress,
    ILogger Logger, CancellationToken CancellationToken)
{
    /// <summary>The ONNX Runtime settings of every session a stage opens.</summary>
    public SessionSettings Settings => new(Options.Device) { Logger = Logger };

    /// <summary>
    /// Where the training stages (fusion, fine-tune, Minimax) train, from the same <see cref="DistillOptions.Device"/>
    /// (<see cref="ComputeDevice"/>): resolved when a stage first asks, so a run that trains nothing never needs CUDA in libtorch.
    /// </summary>
    public TorchSharp.torch.Device TrainingDevice => trainingDevice ??= ComputeDevice.Resolve(Options.Device, Logger, DistillOptions.OptionName(nameof(DistillOptions.Device)));

    TorchSharp.torch.Device? trainingDevice;

    /// <summary>
    /// How a decoded image of the bundle is written into the set: cut back to the data's own size where the bundle padded
    /// the data's images (<see cref="BundleImages.Unpad"/>), unless <see cref="DistillOptions.KeepBundleSize"/>.
    /// </summary>
    public Func<ByteImage, ByteImage> OutputImage()
    {
        if (Options.KeepBundleSize) return image => image;
        var probe = Dataset.Train.Load(0);
        return image => BundleImages.Unpad(image, probe.Width, probe.Height);
    }

    /// <summary>Reports a training stage's steps with their loss.</summary>
    public IProgress<WorkProgress> TrainingSteps() => Progress;

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> for <paramref name="task"/>, with an optional status.</summary>
    public void Report(string task, double done, double total, string? status = null) => Progress.Report(new(task, done, total, status));
}
