using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>
/// Training losses of ε-prediction diffusion models, per sample t (one timestep per batch row).
/// <see cref="Epsilon"/> is the "simple" loss of DDPM / Stable Diffusion; <see cref="LearnedRangeVb"/>
/// is IDDPM's variational term that trains DiT's variance channels (the mean is detached, so the VB term
/// only moves the variance, as in IDDPM's hybrid loss).
/// </summary>
public static class DiffusionLoss
{
    /// <summary>Mean over all elements of (ε̂ − ε)².</summary>
    public static Tensor Epsilon(Tensor predictedEps, Tensor noise) => nn.functional.mse_loss(predictedEps, noise);

    /// <summary>
    /// L_vb in bits per dimension, mean over the batch: KL(q(x_{t−1}|x_t, x₀) ‖ p(x_{t−1}|x_t)) for t &gt; 0 and the
    /// discretised Gaussian decoder NLL at t = 0 (data assumed in [−1, 1], 256 levels).
    /// </summary>
    /// <param name="schedule">Noise schedule the model was trained with; supplies β_t, β̃_t and the posterior coefficients.</param>
    /// <param name="x0">Clean sample x₀ (N, C, …) that <paramref name="xt"/> was noised from.</param>
    /// <param name="xt">Noised input x_t (N, C, …) the model saw.</param>
    /// <param name="t">Integer timesteps of shape (N), one per sample.</param>
    /// <param name="epsAndV">Model output (N, 2C, …): ε then v; log σ² = f·log β_t + (1 − f)·log β̃_t with f = (v + 1)/2.</param>
    public static Tensor LearnedRangeVb(NoiseSchedule schedule, Tensor x0, Tensor xt, Tensor t, Tensor epsAndV)
    {
        var parts = epsAndV.chunk(2, 1);
        var eps = parts[0].detach();
        var v = parts[1];

        Tensor G(IReadOnlyList<double> table) => NoiseSchedule.Gather(table, t, xt);
        var frac = (v + 1) / 2;
        var modelLogVar = frac * G(schedule.LogBetas) + (1 - frac) * G(schedule.PosteriorLogVarianceClipped);

        var predX0 = G(schedule.SqrtRecipAlphasCumprod) * xt - G(schedule.SqrtRecipm1AlphasCumprod) * eps;
        var modelMean = G(schedule.PosteriorMeanCoef1) * predX0 + G(schedule.PosteriorMeanCoef2) * xt;
        var trueMean = G(schedule.PosteriorMeanCoef1) * x0 + G(schedule.PosteriorMeanCoef2) * xt;
        var trueLogVar = G(schedule.PosteriorLogVarianceClipped);

        var kl = NormalKl(trueMean, trueLogVar, modelMean, modelLogVar).flatten(1).mean(new long[] { 1 }) / Math.Log(2.0);
        var nll = -DiscretizedGaussianLogLikelihood(x0, modelMean, modelLogVar * 0.5).flatten(1).mean(new long[] { 1 }) / Math.Log(2.0);
        return where(t.eq(0), nll, kl).mean();
    }

    /// <summary>KL between diagonal Gaussians given by means and log-variances, element-wise.</summary>
    public static Tensor NormalKl(Tensor mean1, Tensor logVar1, Tensor mean2, Tensor logVar2) =>
        0.5 * (-1.0 + logVar2 - logVar1 + (logVar1 - logVar2).exp() + (mean1 - mean2).pow(2) * (-logVar2).exp());

    /// <summary>log p(x) of a Gaussian discretised into 256 bins over [−1, 1] (the edge bins extend to ±∞).</summary>
    public static Tensor DiscretizedGaussianLogLikelihood(Tensor x, Tensor means, Tensor logScales)
    {
        var centered = x - means;
        var invStd = (-logScales).exp();
        var cdfPlus = ApproxStandardNormalCdf(invStd * (centered + 1.0 / 255));
        var cdfMin = ApproxStandardNormalCdf(invStd * (centered - 1.0 / 255));
        var logCdfPlus = cdfPlus.clamp_min(1e-12).log();
        var logOneMinusCdfMin = (1 - cdfMin).clamp_min(1e-12).log();
        var cdfDelta = cdfPlus - cdfMin;
        return where(x < -0.999, logCdfPlus, where(x > 0.999, logOneMinusCdfMin, cdfDelta.clamp_min(1e-12).log()));
    }

    /// <summary>The tanh approximation of Φ used by IDDPM (kept so the loss values are comparable).</summary>
    public static Tensor ApproxStandardNormalCdf(Tensor x) =>
        0.5 * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh());
}
