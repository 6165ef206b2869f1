using Evlf.OnnxHybrid.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>Top-1 accuracy of a classifier on labelled images, in eval mode and without gradients.</summary>
public static class ClassifierAccuracy
{
    /// <summary>Default test batch: large enough that per-call overhead vanishes, small enough that ConvNet-3's 32×32 activations stay near 130 MB a tensor.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>Fraction of <paramref name="data"/> whose arg-max logit equals its label (batches are moved to the model's device).</summary>
    public static double Measure(nn.Module<Tensor, Tensor> model, LabelledImages data, int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            long correct = 0;
            for (long start = 0; start < data.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                long length = Math.Min(batchSize, data.Count - start);
                var x = data.Images.narrow(0, start, length).to(device);
                var y = data.Labels.narrow(0, start, length).to(device);
                var predicted = model.call(x).argmax(1);
                correct += predicted.eq(y).sum().item<long>();
            }
            return (double)correct / data.Count;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
