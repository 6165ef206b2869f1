using System.Diagnostics;
using Evlf.OnnxHybrid.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// The training loop both protocols share: every epoch a fresh random permutation of the training set in
/// mini-batches (the last one smaller, as a DataLoader without drop_last), SGD with momentum and weight decay,
/// a per-epoch learning rate, and one dispose scope per step so native memory stays flat however long it runs.
/// Training first asks glibc to keep large freed blocks (<see cref="NativeAllocator"/>), so each step's activations
/// reuse the previous step's memory instead of page-faulting fresh mappings.
/// </summary>
internal sealed class MiniBatchSgd
{
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required double Momentum { get; init; }
    public required double WeightDecay { get; init; }

    /// <summary>Learning rate of epoch e (0-based).</summary>
    public required Func<int, double> LearningRateAt { get; init; }

    /// <summary>
    /// True: a new optimiser (zero momentum) whenever the learning rate changes, as DC/DSA's evaluate_synset
    /// does; false: the rate changes in place and momentum carries over, as torch's MultiStepLR.
    /// </summary>
    public bool ResetMomentumOnRateChange { get; init; }

    /// <summary>Loss of a batch: (model, images, labels, generator) → scalar loss. Augmentation happens here.</summary>
    public required Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Generator, Tensor> Loss { get; init; }

    /// <summary>Trains <paramref name="model"/> in place; returns the last epoch's mean loss, the wall time and the images processed.</summary>
    public (double FinalLoss, double Seconds, long Images) Train(nn.Module<Tensor, Tensor> model, LabelledImages train, Generator generator,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        NativeAllocator.RetainLargeBlocks();
        var watch = Stopwatch.StartNew();
        model.train();
        var parameters = model.parameters().ToArray();
        double lr = LearningRateAt(0);
        SGD optimizer = optim.SGD(parameters, lr, Momentum, weight_decay: WeightDecay);
        long n = train.Count, images = 0;
        double epochLoss = double.NaN;
        try
        {
            for (int epoch = 0; epoch < Epochs; epoch++)
            {
                double rate = LearningRateAt(epoch);
                if (rate != lr)
                {
                    lr = rate;
                    if (ResetMomentumOnRateChange)
                    {
                        optimizer.Dispose();
                        optimizer = optim.SGD(parameters, lr, Momentum, weight_decay: WeightDecay);
                    }
                    else
                        foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                }

                double lossSum = 0;
                using (var order = randperm(n, generator: generator))
                {
                    for (long start = 0; start < n; start += BatchSize)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        long length = Math.Min(BatchSize, n - start);
                        var index = order.narrow(0, start, length);
                        var x = train.Images.index_select(0, index);
                        var y = train.Labels.index_select(0, index);
                        optimizer.zero_grad();
                        var loss = Loss(model, x, y, generator);
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item<float>() * length;
                    }
                }
                images += n;
                epochLoss = lossSum / n;
                progress?.Report(new TrainingProgress(epoch + 1, Epochs, epochLoss, lr));
            }
        }
        finally
        {
            optimizer.Dispose();
        }
        return (epochLoss, watch.Elapsed.TotalSeconds, images);
    }
}
