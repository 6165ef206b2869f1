using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>How the β table is laid out over the training timesteps.</summary>
public enum BetaScheduleKind
{
    /// <summary>β linear from <c>BetaStart</c> to <c>BetaEnd</c> (DDPM, IDDPM, DiT).</summary>
    Linear,

    /// <summary>√β linear from √<c>BetaStart</c> to √<c>BetaEnd</c>, then squared (Stable Diffusion).</summary>
    ScaledLinear,
}

/// <summary>The training noise process: β schedule and its length.</summary>
/// <param name="Kind">Layout of β over the timesteps.</param>
/// <param name="BetaStart">β at t = 0.</param>
/// <param name="BetaEnd">β at t = T − 1.</param>
/// <param name="TrainTimesteps">T, the number of training timesteps.</param>
public sealed record NoiseScheduleOptions(
    BetaScheduleKind Kind = BetaScheduleKind.Linear,
    double BetaStart = 1e-4,
    double BetaEnd = 0.02,
    int TrainTimesteps = 1000)
{
    /// <summary>DiT / IDDPM: 1000 linear β from 1e-4 to 0.02 (docs/PIPELINES.md §1).</summary>
    public static NoiseScheduleOptions DiT { get; } = new();

    /// <summary>Stable Diffusion 1.x: 1000 scaled-linear β from 0.00085 to 0.012 (docs/PIPELINES.md §6).</summary>
    public static NoiseScheduleOptions StableDiffusion { get; } = new(BetaScheduleKind.ScaledLinear, 0.00085, 0.012);
}

/// <summary>
/// A discrete Gaussian noise process q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I) and every derived table the
/// samplers need, all in float64 (as IDDPM/DiT compute them). Pure math: no model, no files.
/// </summary>
/// <remarks>
/// Tables are indexed by the process's own timesteps 0 … Length − 1. For a respaced process (see
/// <see cref="SpacedSchedule"/>) they are indexed by the respaced index, not by the model's timestep.
/// Coefficients enter tensor math as scalars of the tensor's dtype (float32 for float32 latents, as DiT
/// casts its float64 tables before use).
/// </remarks>
public sealed class NoiseSchedule
{
    readonly double[] betas, alphas, alphasCumprod, alphasCumprodPrev, sqrtAlphasCumprod, sqrtOneMinusAlphasCumprod,
        sqrtRecipAlphasCumprod, sqrtRecipm1AlphasCumprod, posteriorVariance, posteriorLogVarianceClipped,
        posteriorMeanCoef1, posteriorMeanCoef2, logBetas;

    /// <summary>The schedule that <paramref name="options"/> describes.</summary>
    public static NoiseSchedule Create(NoiseScheduleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TrainTimesteps < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"TrainTimesteps must be at least 1; got {options.TrainTimesteps}.");
        if (!(options.BetaStart > 0 && options.BetaEnd > 0 && options.BetaStart <= 1 && options.BetaEnd <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"BetaStart and BetaEnd must lie in (0, 1]; got {options.BetaStart} and {options.BetaEnd}.");
        int n = options.TrainTimesteps;
        double[] b = options.Kind switch
        {
            BetaScheduleKind.Linear => Linspace(options.BetaStart, options.BetaEnd, n),
            BetaScheduleKind.ScaledLinear => Linspace(Math.Sqrt(options.BetaStart), Math.Sqrt(options.BetaEnd), n).Select(r => r * r).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(options), $"Unknown beta schedule kind {options.Kind}."),
        };
        return new NoiseSchedule(b);
    }

    /// <summary>A schedule from explicit β values, each in (0, 1].</summary>
    public static NoiseSchedule FromBetas(IEnumerable<double> betas) => new(betas.ToArray());

    NoiseSchedule(double[] b)
    {
        if (b.Length == 0) throw new ArgumentException("A noise schedule needs at least one β.", nameof(b));
        for (int i = 0; i < b.Length; i++)
            if (!(b[i] > 0 && b[i] <= 1))
                throw new ArgumentOutOfRangeException(nameof(b), $"β[{i}] must lie in (0, 1]; got {b[i]}.");
        int n = b.Length;
        betas = b;
        alphas = new double[n];
        alphasCumprod = new double[n];
        alphasCumprodPrev = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];

        double cumprod = 1.0;
        for (int t = 0; t < n; t++)
        {
            alphas[t] = 1.0 - b[t];
            alphasCumprodPrev[t] = cumprod;
            cumprod *= alphas[t];
            alphasCumprod[t] = cumprod;
            sqrtAlphasCumprod[t] = Math.Sqrt(cumprod);
            sqrtOneMinusAlphasCumprod[t] = Math.Sqrt(1.0 - cumprod);
            sqrtRecipAlphasCumprod[t] = Math.Sqrt(1.0 / cumprod);
            sqrtRecipm1AlphasCumprod[t] = Math.Sqrt(1.0 / cumprod - 1.0);
            // β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)  (DDPM Eq. 7)
            posteriorVariance[t] = b[t] * (1.0 - alphasCumprodPrev[t]) / (1.0 - cumprod);
            posteriorMeanCoef1[t] = b[t] * Math.Sqrt(alphasCumprodPrev[t]) / (1.0 - cumprod);
            posteriorMeanCoef2[t] = (1.0 - alphasCumprodPrev[t]) * Math.Sqrt(alphas[t]) / (1.0 - cumprod);
            logBetas[t] = Math.Log(b[t]);
        }
        // β̃_0 = 0, so its log is clipped to the next entry's (IDDPM). A one-step process has no next entry;
        // its σ is never used (the last step adds no noise), so log β_0 stands in.
        for (int t = 1; t < n; t++) posteriorLogVarianceClipped[t] = Math.Log(posteriorVariance[t]);
        posteriorLogVarianceClipped[0] = n > 1 ? posteriorLogVarianceClipped[1] : logBetas[0];

        Betas = Array.AsReadOnly(betas);
        Alphas = Array.AsReadOnly(alphas);
        AlphasCumprod = Array.AsReadOnly(alphasCumprod);
        AlphasCumprodPrev = Array.AsReadOnly(alphasCumprodPrev);
        SqrtAlphasCumprod = Array.AsReadOnly(sqrtAlphasCumprod);
        SqrtOneMinusAlphasCumprod = Array.AsReadOnly(sqrtOneMinusAlphasCumprod);
        SqrtRecipAlphasCumprod = Array.AsReadOnly(sqrtRecipAlphasCumprod);
        SqrtRecipm1AlphasCumprod = Array.AsReadOnly(sqrtRecipm1AlphasCumprod);
        PosteriorVariance = Array.AsReadOnly(posteriorVariance);
        PosteriorLogVarianceClipped = Array.AsReadOnly(posteriorLogVarianceClipped);
        PosteriorMeanCoef1 = Array.AsReadOnly(posteriorMeanCoef1);
        PosteriorMeanCoef2 = Array.AsReadOnly(posteriorMeanCoef2);
        LogBetas = Array.AsReadOnly(logBetas);
    }

    /// <summary>Number of timesteps of this process.</summary>
    public int Length => betas.Length;

    public IReadOnlyList<double> Betas { get; }
    /// <summary>α_t = 1 − β_t.</summary>
    public IReadOnlyList<double> Alphas { get; }
    /// <summary>ᾱ_t = ∏_{s≤t} α_s.</summary>
    public IReadOnlyList<double> AlphasCumprod { get; }
    /// <summary>ᾱ_{t−1}, with ᾱ_{−1} = 1.</summary>
    public IReadOnlyList<double> AlphasCumprodPrev { get; }
    public IReadOnlyList<double> SqrtAlphasCumprod { get; }
    public IReadOnlyList<double> SqrtOneMinusAlphasCumprod { get; }
    /// <summary>√(1/ᾱ_t).</summary>
    public IReadOnlyList<double> SqrtRecipAlphasCumprod { get; }
    /// <summary>√(1/ᾱ_t − 1).</summary>
    public IReadOnlyList<double> SqrtRecipm1AlphasCumprod { get; }
    /// <summary>β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), the variance of q(x_{t−1} | x_t, x_0).</summary>
    public IReadOnlyList<double> PosteriorVariance { get; }
    /// <summary>log β̃_t with entry 0 (log 0) replaced by entry 1.</summary>
    public IReadOnlyList<double> PosteriorLogVarianceClipped { get; }
    /// <summary>Coefficient of x̂₀ in the posterior mean: β_t √ᾱ_{t−1} / (1 − ᾱ_t).</summary>
    public IReadOnlyList<double> PosteriorMeanCoef1 { get; }
    /// <summary>Coefficient of x_t in the posterior mean: (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t).</summary>
    public IReadOnlyList<double> PosteriorMeanCoef2 { get; }
    /// <summary>log β_t, the upper end of the learned-range variance.</summary>
    public IReadOnlyList<double> LogBetas { get; }

    /// <summary>q_sample: x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, one <paramref name="t"/> for the whole batch.</summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, int t)
    {
        CheckIndex(t);
        using var scope = NewDisposeScope();
        return x0.mul(sqrtAlphasCumprod[t]).add_(noise.mul(sqrtOneMinusAlphasCumprod[t])).MoveToOuterDisposeScope();
    }

    /// <summary>q_sample with one timestep per sample: <paramref name="t"/> is an integer tensor of shape (N).</summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, Tensor t)
    {
        using var scope = NewDisposeScope();
        return (Gather(SqrtAlphasCumprod, t, x0) * x0 + Gather(SqrtOneMinusAlphasCumprod, t, x0) * noise).MoveToOuterDisposeScope();
    }

    /// <summary>x̂₀ = √(1/ᾱ_t)·x_t − √(1/ᾱ_t − 1)·ε.</summary>
    public Tensor PredictX0FromEps(Tensor x, Tensor eps, int t)
    {
        CheckIndex(t);
        using var scope = NewDisposeScope();
        return x.mul(sqrtRecipAlphasCumprod[t]).sub_(eps.mul(sqrtRecipm1AlphasCumprod[t])).MoveToOuterDisposeScope();
    }

    /// <summary>x̂₀ with one timestep per sample: <paramref name="t"/> is an integer tensor of shape (N).</summary>
    public Tensor PredictX0FromEps(Tensor x, Tensor eps, Tensor t)
    {
        using var scope = NewDisposeScope();
        return (Gather(SqrtRecipAlphasCumprod, t, x) * x - Gather(SqrtRecipm1AlphasCumprod, t, x) * eps).MoveToOuterDisposeScope();
    }

    /// <summary>ε = (√(1/ᾱ_t)·x_t − x̂₀) / √(1/ᾱ_t − 1), the inverse of <see cref="PredictX0FromEps(Tensor, Tensor, int)"/>.</summary>
    public Tensor PredictEpsFromX0(Tensor x, Tensor x0, int t)
    {
        CheckIndex(t);
        using var scope = NewDisposeScope();
        return x.mul(sqrtRecipAlphasCumprod[t]).sub_(x0).div_(sqrtRecipm1AlphasCumprod[t]).MoveToOuterDisposeScope();
    }

    /// <summary>Mean of q(x_{t−1} | x_t, x₀): coef1_t·x₀ + coef2_t·x_t.</summary>
    public Tensor PosteriorMean(Tensor x0, Tensor x, int t)
    {
        CheckIndex(t);
        using var scope = NewDisposeScope();
        return x0.mul(posteriorMeanCoef1[t]).add_(x.mul(posteriorMeanCoef2[t])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// table[t_n] for each sample, as a tensor of <paramref name="like"/>'s dtype and device shaped
    /// (N, 1, …, 1) to broadcast against it.
    /// </summary>
    public static Tensor Gather(IReadOnlyList<double> table, Tensor t, Tensor like)
    {
        if (t.dim() != 1) throw new ArgumentException($"Timesteps must be a 1-D tensor of length N; got shape [{string.Join(",", t.shape)}].", nameof(t));
        long[] ts = t.to(ScalarType.Int64).cpu().data<long>().ToArray();
        var values = new double[ts.Length];
        for (int i = 0; i < ts.Length; i++)
        {
            if (ts[i] < 0 || ts[i] >= table.Count)
                throw new ArgumentOutOfRangeException(nameof(t), $"Timestep {ts[i]} is outside 0..{table.Count - 1}.");
            values[i] = table[(int)ts[i]];
        }
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = ts.Length;
        using var scope = NewDisposeScope();
        return tensor(values, ScalarType.Float64).to(like.dtype).to(like.device).reshape(shape).MoveToOuterDisposeScope();
    }

    void CheckIndex(int t)
    {
        if (t < 0 || t >= Length) throw new ArgumentOutOfRangeException(nameof(t), $"Timestep {t} is outside 0..{Length - 1}.");
    }

    /// <summary>numpy.linspace in float64: start + i·step, with the last value exactly <paramref name="stop"/>.</summary>
    internal static double[] Linspace(double start, double stop, int n)
    {
        var r = new double[n];
        if (n == 1) { r[0] = start; return r; }
        double step = (stop - start) / (n - 1);
        for (int i = 0; i < n; i++) r[i] = start + i * step;
        r[n - 1] = stop;
        return r;
    }
}
