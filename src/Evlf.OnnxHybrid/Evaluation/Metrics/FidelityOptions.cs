namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>Settings of <see cref="FidelityReference"/>.</summary>
public sealed record FidelityOptions
{
    /// <summary>k of the k-nearest-neighbour radii (Naeem et al. use 20).</summary>
    public int K { get; init; } = DensityCoverage.DefaultK;

    /// <summary>
    /// Real training images per class in the reference set, drawn with <see cref="Seed"/> (all of a class when it has
    /// fewer). 1000 per class keeps the global N×N neighbour search cheap (10 000 × 10 000 for ten classes) while
    /// every class has far more than k + 1 samples.
    /// </summary>
    public int RealPerClass { get; init; } = 1000;

    /// <summary>Principal components of the pixel feature space.</summary>
    public int Components { get; init; } = PixelPcaFeatures.DefaultComponents;

    /// <summary>Images whose longer side exceeds this are shrunk to fit before the PCA (see <see cref="PixelPcaFeatures"/>).</summary>
    public int MaxSide { get; init; } = PixelPcaFeatures.DefaultMaxSide;

    /// <summary>Seeds the reference sample and the randomized PCA.</summary>
    public int Seed { get; init; }
}
