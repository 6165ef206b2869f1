namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>
/// Density and coverage of fake samples F (M×D) against real samples R (N×D) (Naeem, Oh, Uh, Choi and Yoo,
/// "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020). With r_i the distance from R_i to
/// its k-th nearest other real sample,
/// <code>
/// density  = 1/(k·M) · Σ_j Σ_i 1[‖F_j − R_i‖ ≤ r_i]      (fidelity; 1 on average when F and R share a distribution, may exceed 1)
/// coverage = 1/N · Σ_i 1[∃ j: ‖F_j − R_i‖ ≤ r_i]          (diversity; in [0, 1])
/// </code>
/// <see cref="InManifold"/> is the fraction of fake samples inside at least one real ball: what the EVLF paper
/// (§5.4, "coverage measured following [24]") computes and calls coverage.
/// </summary>
/// <param name="Density">Naeem et al.'s density.</param>
/// <param name="Coverage">Naeem et al.'s coverage.</param>
/// <param name="InManifold">1/M · Σ_j 1[∃ i: ‖F_j − R_i‖ ≤ r_i].</param>
/// <param name="RealCount">N.</param>
/// <param name="FakeCount">M.</param>
/// <param name="K">The k of the k-nearest-neighbour radii.</param>
public sealed record DensityCoverage(double Density, double Coverage, double InManifold, int RealCount, int FakeCount, int K)
{
    /// <summary>Naeem et al.'s recommended k.</summary>
    public const int DefaultK = 20;

    /// <summary>Fits the real balls and scores <paramref name="fake"/> in one step (see <see cref="RealManifold"/>).</summary>
    public static DensityCoverage Compute(TorchSharp.torch.Tensor real, TorchSharp.torch.Tensor fake, int k = DefaultK)
    {
        using var manifold = RealManifold.Fit(real, k);
        return manifold.Score(fake);
    }
}
