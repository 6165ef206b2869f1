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
        var predicted = Predict(model, data, batchSize, cancellationToken);
        var labels = data.Labels.data<long>().ToArray();
        long correct = 0;
        for (int i = 0; i < predicted.Length; i++)
            if (predicted[i] == labels[i]) correct++;
        return (double)correct / data.Count;
    }

    /// <summary>The arg-max class of every image of <paramref name="data"/>, in eval mode, without gradients, batches moved to the model's device.</summary>
    internal static long[] Predict(nn.Module<Tensor, Tensor> model, LabelledImages data, int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            var predicted = new long[data.Count];
            for (long start = 0; start < data.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                long length = Math.Min(batchSize, data.Count - start);
                var batch = model.call(data.Images.narrow(0, start, length).to(device)).argmax(1).cpu().data<long>();
                Array.Copy(batch.ToArray(), 0, predicted, start, length);
            }
            return predicted;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
