using Evlf.OnnxHybrid.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>
/// Class agreement of a synthetic set: the fraction of its images that a classifier trained on the real images assigns
/// to the class they were made for — how class-faithful generated images are, judged as the DiT and MGD3 papers judge
/// samples, by a classifier of the real data (here the soft-label <see cref="Teacher"/>). A real subset scores about the
/// classifier's own test accuracy; a generator that drifts off its class scores lower.
/// </summary>
/// <param name="Overall">Agreeing images over all images, 0 to 1.</param>
/// <param name="PerClass">Per class in label order; null where the set has no image of the class.</param>
public sealed record ClassAgreement(double Overall, IReadOnlyList<double?> PerClass)
{
    /// <summary>The agreement of the class the classifier agrees with least (null when no class has images).</summary>
    public double? Lowest => PerClass.Where(a => a is not null).Min();

    /// <summary>That class's label (the first of equals; null when no class has images).</summary>
    public int? LowestClass => Lowest is double low ? Enumerable.Range(0, PerClass.Count).First(c => PerClass[c] == low) : null;

    /// <summary>Agreement of <paramref name="classifier"/>'s arg-max with the labels of <paramref name="set"/> (<see cref="ClassifierAccuracy"/>'s predictions).</summary>
    /// <param name="classifier">The judge: any classifier of the set's image size (put in eval mode while it predicts).</param>
    /// <param name="set">The images and the labels they were made for.</param>
    /// <param name="classes">How many classes the labels range over.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static ClassAgreement Measure(nn.Module<Tensor, Tensor> classifier, LabelledImages set, int classes,
        int batchSize = ClassifierAccuracy.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        if (set.Count == 0) throw new ArgumentException("The set has no images to classify.", nameof(set));
        var predicted = ClassifierAccuracy.Predict(classifier, set, batchSize, cancellationToken);
        var labels = set.Labels.data<long>().ToArray();
        var agreeing = new long[classes];
        var total = new long[classes];
        for (int i = 0; i < labels.Length; i++)
        {
            total[labels[i]]++;
            if (predicted[i] == labels[i]) agreeing[labels[i]]++;
        }
        var perClass = Enumerable.Range(0, classes).Select(c => total[c] == 0 ? (double?)null : (double)agreeing[c] / total[c]).ToArray();
        return new ClassAgreement((double)agreeing.Sum() / total.Sum(), perClass);
    }
}
