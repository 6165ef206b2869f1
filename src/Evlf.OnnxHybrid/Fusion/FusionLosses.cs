using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Fusion;

/// <summary>The EVLF training objective (paper Eqs. 9, 11, 12), as the released code computes it.</summary>
public static class FusionLosses
{
    /// <summary>
    /// Symmetric multi-positive InfoNCE (Eq. 11): rows are L2-normalised projected fused latents u, columns
    /// L2-normalised class text vectors v of the same batch; logits = exp(logitScale)·u·vᵀ; the positives of
    /// row i are every column with the same label (itself included); each row's loss is
    /// −(logsumexp over positives of log_softmax(row) − log #positives); the loss is the mean over rows and
    /// columns (both directions) of the two.
    /// </summary>
    public static Tensor InfoNce(Tensor projected, Tensor textVectors, Tensor labels, Tensor logitScale)
    {
        var u = nn.functional.normalize(projected, dim: 1);
        var v = nn.functional.normalize(textVectors, dim: 1);
        var logits = logitScale.exp() * u.matmul(v.t());
        var positives = labels.unsqueeze(1).eq(labels.unsqueeze(0));
        Tensor Direction(Tensor l)
        {
            var logProb = l.log_softmax(1);
            var masked = logProb.masked_fill(positives.logical_not(), double.NegativeInfinity);
            var count = positives.sum(1).to(l.dtype);
            return -(masked.logsumexp(1) - count.log());
        }
        return (Direction(logits).mean() + Direction(logits.t()).mean()) / 2;
    }

    /// <summary>
    /// The lowest value <see cref="InfoNce"/> can reach on a batch with these labels: the text vectors of one class are
    /// identical columns, so even a perfect match leaves each row log(#positives) (its positives share the probability).
    /// The mean of log(#same-label rows) over the batch; InfoNCE near it means the projected latents already sort the
    /// batch by class.
    /// </summary>
    public static double InfoNceFloor(Tensor labels)
    {
        using var scope = NewDisposeScope();
        return labels.unsqueeze(1).eq(labels.unsqueeze(0)).sum(1).to(ScalarType.Float64).log().mean().item<double>();
    }

    /// <summary>Reconstruction term (Eq. 9): MSE between the fused latent and the original posterior mean.</summary>
    public static Tensor Mse(Tensor fused, Tensor original) => nn.functional.mse_loss(fused, original);

    /// <summary>
    /// λ2 of Eq. 12 as released: linear from <paramref name="start"/> to <paramref name="end"/> over the first
    /// <paramref name="rampSteps"/> micro-batches, then constant.
    /// </summary>
    public static double Lambda2(long microStep, long rampSteps, double start = 0.05, double end = 1.0) =>
        rampSteps <= 0 ? end : start + (end - start) * Math.Min(1.0, (double)microStep / rampSteps);

    /// <summary>Top-1 class retrieval: how often a projected latent's nearest class text vector is its own class.</summary>
    public static double Top1Retrieval(Tensor projected, Tensor classVectors, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var u = nn.functional.normalize(projected, dim: 1);
        var v = nn.functional.normalize(classVectors, dim: 1);
        return u.matmul(v.t()).argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>();
    }
}
