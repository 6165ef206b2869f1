namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// How k-means runs; k itself is an argument of <see cref="KMeans.Fit"/> (IPC in the pipelines). Defaults are
/// the anchors' (docs/PIPELINES.md §2 stage B): k-means++, one init, Lloyd, at most 300 iterations, tol 1e-4,
/// random_state 0.
/// </summary>
/// <param name="NInit">Independent restarts; the one with the lowest inertia is kept.</param>
/// <param name="MaxIterations">Upper bound on Lloyd iterations per restart.</param>
/// <param name="Tolerance">
/// Lloyd stops once Σ_j ‖c_j − c_j′‖² (the squared centre shift of one iteration) is at most Tolerance times the
/// mean of the per-feature variances of the data (scikit-learn's rule), or when the labels stop changing.
/// 0 stops only on unchanged labels.
/// </param>
/// <param name="Seed">Seeds the initialisation; the same seed gives the same centroids on the same machine.</param>
/// <param name="Init">Initialisation method.</param>
/// <param name="LocalTrials">k-means++ candidates tried per centre; null is 2 + ⌊ln k⌋ (scikit-learn's greedy default).</param>
/// <param name="ChunkElements">Distances held in memory at once (rows × centres); bounds the working set.</param>
public sealed record KMeansOptions(
    int NInit = 1,
    int MaxIterations = 300,
    double Tolerance = 1e-4,
    int Seed = 0,
    KMeansInit Init = KMeansInit.KMeansPlusPlus,
    int? LocalTrials = null,
    long ChunkElements = SquaredDistances.DefaultChunkElements)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent option.</summary>
    public void Validate()
    {
        if (NInit < 1) throw new ArgumentException($"KMeansOptions.NInit must be at least 1; got {NInit}.");
        if (MaxIterations < 1) throw new ArgumentException($"KMeansOptions.MaxIterations must be at least 1; got {MaxIterations}.");
        if (!(Tolerance >= 0) || double.IsInfinity(Tolerance)) throw new ArgumentException($"KMeansOptions.Tolerance must be a finite number ≥ 0; got {Tolerance}.");
        if (LocalTrials is < 1) throw new ArgumentException($"KMeansOptions.LocalTrials must be at least 1 (or null for 2 + ln k); got {LocalTrials}.");
        if (ChunkElements < 1) throw new ArgumentException($"KMeansOptions.ChunkElements must be at least 1; got {ChunkElements}.");
    }
}
