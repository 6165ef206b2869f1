namespace Evlf.OnnxHybrid.Evaluation.Metrics;

/// <summary>
/// Density and coverage of one synthetic set: per class (synthetic images of class c against real images of class c)
/// and globally (all synthetic against all real images, labels ignored).
/// </summary>
/// <param name="Global">All synthetic images against the whole real reference set.</param>
/// <param name="PerClass">One score per class in label order; null where the set has no image of the class or the reference has at most k images of it.</param>
public sealed record SetFidelity(DensityCoverage Global, IReadOnlyList<DensityCoverage?> PerClass)
{
    /// <summary>Mean of the per-class densities over the classes that have one.</summary>
    public double MeanDensity => Mean(s => s.Density);

    /// <summary>Mean of the per-class coverages over the classes that have one.</summary>
    public double MeanCoverage => Mean(s => s.Coverage);

    /// <summary>Mean of the per-class in-manifold fractions over the classes that have one.</summary>
    public double MeanInManifold => Mean(s => s.InManifold);

    /// <summary>Classes that entered the means.</summary>
    public int ScoredClasses => PerClass.Count(s => s is not null);

    double Mean(Func<DensityCoverage, double> value)
    {
        var scored = PerClass.Where(s => s is not null).Select(s => value(s!)).ToArray();
        return scored.Length == 0 ? double.NaN : scored.Average();
    }
}
