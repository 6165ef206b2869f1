namespace Evlf.OnnxHybrid.Clustering;

/// <summary>How <see cref="Pca"/> finds its components.</summary>
public enum PcaSolver
{
    /// <summary>Randomized when the data are large and few components are asked for (scikit-learn's rule: max(N, D) &gt; 500 and P &lt; 0.8·min(N, D)), else full.</summary>
    Auto,

    /// <summary>Exact thin SVD of the centred data; costs O(N·D·min(N, D)).</summary>
    Full,

    /// <summary>Randomized range finder with power iterations, then an exact SVD of the small projected matrix (Halko, Martinsson and Tropp 2011); costs O(N·D·(P + oversamples)·iterations).</summary>
    Randomized,
}

/// <summary>PCA settings; PCA is off by default in the pipelines (docs/PIPELINES.md §2 stage B).</summary>
/// <param name="Solver">Exact or randomized decomposition.</param>
/// <param name="Seed">Seeds the Gaussian test matrix of the randomized solver.</param>
/// <param name="Oversamples">Extra random directions beyond P for the randomized solver (scikit-learn uses 10).</param>
/// <param name="PowerIterations">Power iterations of the randomized solver; null is 7 when P &lt; 0.1·min(N, D), else 4 (scikit-learn's "auto").</param>
public sealed record PcaOptions(
    PcaSolver Solver = PcaSolver.Auto,
    int Seed = 0,
    int Oversamples = 10,
    int? PowerIterations = null);
