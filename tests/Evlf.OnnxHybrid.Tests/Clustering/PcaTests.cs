using Evlf.OnnxHybrid.Clustering;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Clustering;

public class PcaTests
{
    /// <summary>
    /// X = U·diag(s)·Vᵀ + μ with U orthonormal and centred columns and V orthonormal: its principal axes are V's
    /// columns and its singular values s, known in advance. s is given unsorted.
    /// </summary>
    static (Tensor X, Tensor Mean, Tensor V, double[] S) KnownSpectrum(int n, int d, double[] s, ulong seed)
    {
        using var g = new Generator(seed);
        var a = randn(n, s.Length, ScalarType.Float64, generator: g);
        var (u, _) = linalg.qr(a.sub(a.mean([0L]))); // columns of a centred matrix span centred vectors
        var (v, _) = linalg.qr(randn(d, s.Length, ScalarType.Float64, generator: g));
        var mean = randn(d, ScalarType.Float64, generator: g).mul_(5);
        var x = u.mul(tensor(s).unsqueeze(0)).matmul(v.t()).add(mean);
        return (x, mean, v, s);
    }

    [Theory]
    [InlineData(PcaSolver.Full)]
    [InlineData(PcaSolver.Randomized)]
    public void RecoversAKnownSpectrumInDecreasingOrder(PcaSolver solver)
    {
        using var scope = NewDisposeScope();
        var (x, mean, v, s) = KnownSpectrum(60, 20, [3.0, 12.0, 0.5, 7.0], 1);
        using var pca = Pca.Fit(x, 3, new PcaOptions(Solver: solver));
        var sorted = s.OrderByDescending(t => t).Take(3).ToArray();
        var variance = pca.ExplainedVariance.data<double>().ToArray();
        for (int i = 0; i < 3; i++)
            Assert.Equal(sorted[i] * sorted[i] / 59, variance[i], 1e-9);
        double total = s.Sum(t => t * t) / 59;
        var ratio = pca.ExplainedVarianceRatio.data<double>().ToArray();
        for (int i = 0; i < 3; i++)
            Assert.Equal(sorted[i] * sorted[i] / 59 / total, ratio[i], 1e-9);
        Assert.True(pca.Mean.allclose(mean, rtol: 0, atol: 1e-12));

        // Component i is ± the column of V with the i-th largest s.
        var order = s.Select((t, j) => (t, j)).OrderByDescending(p => p.t).Select(p => p.j).ToArray();
        for (int i = 0; i < 3; i++)
        {
            double cos = pca.Components[i].dot(v[.., order[i]]).item<double>();
            Assert.True(Math.Abs(Math.Abs(cos) - 1) < 1e-9, $"component {i}: |cos| with the true axis is {Math.Abs(cos)}.");
        }
    }

    [Theory]
    [InlineData(PcaSolver.Full)]
    [InlineData(PcaSolver.Randomized)]
    public void AllComponentsReconstructTheInput(PcaSolver solver)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        var x = randn(30, 8, ScalarType.Float64, generator: g).mul_(tensor(new double[] { 5, 4, 3, 2, 1, .5, .2, .1 })).add_(7);
        using var pca = Pca.Fit(x, 8, new PcaOptions(Solver: solver));
        var back = pca.InverseTransform(pca.Transform(x));
        double err = back.sub(x).abs().max().item<double>();
        Assert.True(err < 1e-10, $"reconstruction error {err:E2}");
        Assert.True(pca.Components.matmul(pca.Components.t()).allclose(eye(8, dtype: ScalarType.Float64), rtol: 0, atol: 1e-12), "components are not orthonormal");
        Assert.Equal(1.0, pca.ExplainedVarianceRatio.sum().item<double>(), 1e-12);
        var variance = pca.ExplainedVariance.data<double>().ToArray();
        for (int i = 1; i < variance.Length; i++) Assert.True(variance[i] <= variance[i - 1], $"explained variance not decreasing at {i}");
    }

    [Fact]
    public void FewerComponentsReconstructOnlyTheirSubspace()
    {
        using var scope = NewDisposeScope();
        var (x, _, _, _) = KnownSpectrum(40, 10, [9.0, 4.0, 1.0], 3);
        using var two = Pca.Fit(x, 2, new PcaOptions(Solver: PcaSolver.Full));
        var residual = x.sub(two.InverseTransform(two.Transform(x)));
        // What is left is exactly the third direction: Σ residual² = s₃².
        Assert.Equal(1.0, residual.square().sum().item<double>(), 1e-9);
    }

    [Fact]
    public void MatchesScikitLearn()
    {
        var v = ClusteringVectors.Open("pca_d12");
        using var scope = NewDisposeScope();
        var x = v.Tensor("x");
        using var pca = Pca.Fit(x, v.Int("components"), new PcaOptions(Solver: PcaSolver.Full));
        TensorClose(v.Tensor("mean"), pca.Mean, 1e-12, "mean");
        TensorClose(v.Tensor("explained_variance"), pca.ExplainedVariance, 1e-10, "explained variance");
        TensorClose(v.Tensor("explained_variance_ratio"), pca.ExplainedVarianceRatio, 1e-10, "explained variance ratio");
        // scikit-learn fixes signs by the projections, we by the loadings: compare up to one sign per component.
        var expected = v.Tensor("components");
        var sign = expected.mul(pca.Components).sum(1, keepdim: true).sign();
        TensorClose(expected, pca.Components.mul(sign), 1e-9, "components");
        TensorClose(v.Tensor("z"), pca.Transform(x).mul(sign.t()), 1e-9, "projection");

        using var randomized = Pca.Fit(x, v.Int("components"), new PcaOptions(Solver: PcaSolver.Randomized));
        TensorClose(v.Tensor("explained_variance"), randomized.ExplainedVariance, 1e-8, "randomized explained variance");
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        using var scope = NewDisposeScope();
        var x = randn(10, 4, ScalarType.Float64);
        Assert.Contains("1..4", Assert.Throws<ArgumentException>(() => Pca.Fit(x, 0)).Message);
        Assert.Contains("1..4", Assert.Throws<ArgumentException>(() => Pca.Fit(x, 5)).Message);
        Assert.Contains("N ≥ 2", Assert.Throws<ArgumentException>(() => Pca.Fit(x.narrow(0, 0, 1), 1)).Message);
    }

    static void TensorClose(Tensor expected, Tensor actual, double rtol, string what)
    {
        var e = expected.to(ScalarType.Float64);
        var a = actual.to(ScalarType.Float64);
        Assert.Equal(e.shape, a.shape);
        double err = a.sub(e).abs().max().item<double>();
        double scale = Math.Max(1e-300, e.abs().max().item<double>());
        Assert.True(err <= rtol * scale, $"{what}: max |a − e| = {err:E2} > {rtol:E0} × {scale:G3}.");
    }
}
