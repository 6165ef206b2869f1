using System.Diagnostics;
using Evlf.OnnxHybrid.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// The training loop the evaluation protocols share: every epoch a fresh random permutation of the training set in
/// mini-batches (the last one smaller, as a DataLoader without drop_last), SGD with momentum and weight decay (or
/// the optimiser <see cref="Optimizer"/> makes, e.g. AdamW for soft labels), a per-epoch learning rate, and one dispose scope per step so native memory stays flat however long it runs.
/// Training first asks glibc to keep large freed blocks (<see cref="NativeAllocator"/>), so each step's activations
/// reuse the previous step's memory instead of page-faulting fresh mappings.
/// </summary>
internal sealed class MiniBatchSgd
{
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public double Momentum { get; init; }
    public double WeightDecay { get; init; }

    /// <summary>Makes the optimiser for the parameters at a learning rate; null: SGD with <see cref="Momentum"/> and <see cref="WeightDecay"/>.</summary>
    public Func<IReadOnlyList<Parameter>, double, OptimizerHelper>? Optimizer { get; init; }

    /// <summary>Called after every step with (epoch, steps done in it, steps per epoch, the epoch's mean loss so far), for progress finer than an epoch.</summary>
    public Action<int, long, long, double>? StepDone { get; init; }

    /// <summary>Learning rate of epoch e (0-based).</summary>
    public required Func<int, double> LearningRateAt { get; init; }

    /// <summary>
    /// True: a new optimiser (zero momentum) whenever the learning rate changes, as DC/DSA's evaluate_synset
    /// does; false: the rate changes in place and momentum carries over, as torch's MultiStepLR.
    /// </summary>
    public bool ResetMomentumOnRateChange { get; init; }

    /// <summary>Loss of a batch: (model, images, labels, generator) → scalar loss. Augmentation happens here.</summary>
    public required Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Generator, Tensor> Loss { get; init; }

    /// <summary>Trains <paramref name="model"/> in place, on the device its parameters are on; returns the last epoch's mean loss, the wall time and the images processed.</summary>
    public (double FinalLoss, double Seconds, long Images) Train(nn.Module<Tensor, Tensor> model, LabelledImages train, Generator generator,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        NativeAllocator.RetainLargeBlocks();
        var watch = Stopwatch.StartNew();
        model.train();
        var parameters = model.parameters().ToArray();
        // Batches are gathered on the CPU, where the permutation is drawn, and moved to wherever the model is.
        var device = parameters.Length > 0 ? parameters[0].device : CPU;
        long n = train.Count, images = 0;
        double lr = LearningRateAt(0);
        OptimizerHelper Create(double rate) => Optimizer?.Invoke(parameters, rate) ?? optim.SGD(parameters, rate, Momentum, weight_decay: WeightDecay);
        var optimizer = Create(lr);
        long steps = (n + BatchSize - 1) / BatchSize;
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
                        optimizer = Create(lr);
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
                        var x = train.Images.index_select(0, index).to(device);
                        var y = train.Labels.index_select(0, index).to(device);
                        optimizer.zero_grad();
                        var loss = Loss(model, x, y, generator);
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item<float>() * length;
                        StepDone?.Invoke(epoch, start / BatchSize + 1, steps, lossSum / (start + length));
                    }
                }
                images += n;
                epochLoss = lossSum / n;
                progress?.Report(new WorkProgress("train", epoch + 1, Epochs, FormattableString.Invariant($"loss {epochLoss:F4}, lr {lr:G4}")));
            }
        }
        finally
        {
            optimizer.Dispose();
        }
        return (epochLoss, watch.Elapsed.TotalSeconds, images);
    }
}
