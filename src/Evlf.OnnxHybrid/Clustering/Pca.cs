using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Principal component analysis of the rows of a (N, D) tensor: the mean μ, and the top P right singular
/// vectors of X − μ as orthonormal rows of <see cref="Components"/> (P, D), largest variance first.
/// z = (x − μ)·Vᵀ and x̂ = z·V + μ. Each component's sign is fixed so its largest-magnitude loading is
/// positive, which makes the result independent of the solver's sign choices. float64 data stay float64;
/// other floating dtypes run in float32.
/// </summary>
public sealed class Pca : IDisposable
{
    Pca(Tensor mean, Tensor components, Tensor explainedVariance, Tensor explainedVarianceRatio)
    {
        Mean = mean;
        Components = components;
        ExplainedVariance = explainedVariance;
        ExplainedVarianceRatio = explainedVarianceRatio;
    }

    /// <summary>μ, the per-feature mean (D).</summary>
    public Tensor Mean { get; }

    /// <summary>V, the principal axes (P, D) with orthonormal rows.</summary>
    public Tensor Components { get; }

    /// <summary>σ²/(N − 1) for each component, in decreasing order (P).</summary>
    public Tensor ExplainedVariance { get; }

    /// <summary>Each component's share of the total variance Σ_j Var(x_{·j}) (P).</summary>
    public Tensor ExplainedVarianceRatio { get; }

    /// <summary>P, the number of components kept.</summary>
    public int ComponentCount => (int)Components.shape[0];

    /// <summary>Fits <paramref name="components"/> principal components to the rows of <paramref name="x"/>.</summary>
    /// <exception cref="ArgumentException">x is not a finite floating (N, D) tensor with N ≥ 2, or P is not in 1..min(N, D).</exception>
    public static Pca Fit(Tensor x, int components, PcaOptions? options = null)
    {
        var o = options ?? new PcaOptions();
        if (x.dim() != 2 || x.shape[0] < 2 || x.shape[1] < 1 || !x.is_floating_point())
            throw new ArgumentException($"PCA expects a floating (N, D) tensor with N ≥ 2; got {x.dtype} [{string.Join(", ", x.shape)}].", nameof(x));
        long n = x.shape[0], d = x.shape[1], rank = Math.Min(n, d);
        if (components < 1 || components > rank)
            throw new ArgumentException($"PCA components must be in 1..min(N, D) = 1..{rank}; got {components}.", nameof(components));
        if (o.Oversamples < 0) throw new ArgumentException($"PcaOptions.Oversamples must be ≥ 0; got {o.Oversamples}.", nameof(options));
        if (o.PowerIterations is < 0) throw new ArgumentException($"PcaOptions.PowerIterations must be ≥ 0; got {o.PowerIterations}.", nameof(options));
        using (var finite = x.isfinite().all())
            if (!finite.item<bool>()) throw new ArgumentException("PCA data contain NaN or infinite values.", nameof(x));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var work = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var xw = x.to(work);
        var mean = xw.mean([0L]);
        var xc = xw.sub(mean);

        bool randomized = o.Solver switch
        {
            PcaSolver.Full => false,
            PcaSolver.Randomized => true,
            _ => Math.Max(n, d) > 500 && components < 0.8 * rank,
        };
        var (s, vt) = randomized ? RandomizedSvd(xc, components, o) : FullSvd(xc, components);

        // Sign: the largest |loading| of each component is positive.
        var pivot = vt.abs().argmax(1, keepdim: true);
        var sign = vt.gather(1, pivot).sign();
        sign = where(sign.eq(0), ones_like(sign), sign);
        vt = vt.mul(sign);

        var variance = s.square().div(n - 1);
        double total = xc.square().sum(ScalarType.Float64).item<double>() / (n - 1);
        var ratio = total > 0 ? variance.div(total) : zeros_like(variance);
        return new Pca(
            mean.MoveToOuterDisposeScope(),
            vt.contiguous().MoveToOuterDisposeScope(),
            variance.MoveToOuterDisposeScope(),
            ratio.MoveToOuterDisposeScope());
    }

    /// <summary>z = (x − μ)·Vᵀ, (N, P), in the model's dtype.</summary>
    public Tensor Transform(Tensor x)
    {
        using var scope = NewDisposeScope();
        return x.to(Mean.dtype).sub(Mean).matmul(Components.t()).MoveToOuterDisposeScope();
    }

    /// <summary>x̂ = z·V + μ, (N, D), in the model's dtype.</summary>
    public Tensor InverseTransform(Tensor z)
    {
        using var scope = NewDisposeScope();
        return z.to(Mean.dtype).matmul(Components).add(Mean).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Mean.Dispose();
        Components.Dispose();
        ExplainedVariance.Dispose();
        ExplainedVarianceRatio.Dispose();
    }

    static (Tensor S, Tensor Vt) FullSvd(Tensor xc, int p)
    {
        var (_, s, vt) = linalg.svd(xc, fullMatrices: false);
        return (s.narrow(0, 0, p), vt.narrow(0, 0, p));
    }

    /// <summary>
    /// Range finder: Q spans X·G for a Gaussian G (D, P + oversamples), sharpened by q rounds of Q ← qr(X·qr(Xᵀ·Q));
    /// then the SVD of the small Qᵀ·X gives the top singular values and right vectors.
    /// </summary>
    static (Tensor S, Tensor Vt) RandomizedSvd(Tensor xc, int p, PcaOptions o)
    {
        long n = xc.shape[0], d = xc.shape[1];
        long width = Math.Min(p + o.Oversamples, Math.Min(n, d));
        int iterations = o.PowerIterations ?? (p < 0.1 * Math.Min(n, d) ? 7 : 4);
        using var generator = new Generator((ulong)o.Seed);
        // Drawn on the CPU so the same seed gives the same matrix whatever the device.
        var g = randn(d, width, dtype: xc.dtype, generator: generator).to(xc.device);
        var (q, _) = linalg.qr(xc.matmul(g));
        for (int i = 0; i < iterations; i++)
        {
            var (qt, _) = linalg.qr(xc.t().matmul(q));
            (q, _) = linalg.qr(xc.matmul(qt));
        }
        var b = q.t().matmul(xc);
        var (_, s, vt) = linalg.svd(b, fullMatrices: false);
        return (s.narrow(0, 0, p), vt.narrow(0, 0, p));
    }
}
