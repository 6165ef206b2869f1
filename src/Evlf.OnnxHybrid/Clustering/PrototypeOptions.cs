namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// How class prototypes (MGD3/EVLF modes, D4M prototypes) are made from a class's vectors. Defaults are the
/// anchors' (docs/PIPELINES.md §2 stage B): k-means centroids used directly, no PCA, no closest-sample snapping;
/// every class is clustered with the same seed (random_state 0 for each class in the anchors).
/// </summary>
/// <param name="KMeans">k-means settings; null is <see cref="KMeansOptions"/>' defaults.</param>
/// <param name="PcaComponents">Cluster in the span of this many principal components of the class, then map the centroids back (null: no PCA).</param>
/// <param name="Pca">PCA settings when <paramref name="PcaComponents"/> is set; null is <see cref="PcaOptions"/>' defaults.</param>
/// <param name="ClosestRealSample">Replace each centroid by the class sample nearest to it (in the space that was clustered).</param>
/// <param name="MiniBatchChunk">
/// D4M's variant (docs/PIPELINES.md §6): instead of Lloyd k-means, feed the class to <see cref="MiniBatchKMeans"/> in chunks of
/// this many rows, in order (null: Lloyd k-means). <see cref="KMeans"/> is then unused; <see cref="MiniBatch"/> applies.
/// </param>
/// <param name="MiniBatch">Mini-batch settings when <paramref name="MiniBatchChunk"/> is set; null is <see cref="MiniBatchKMeansOptions"/>' defaults.</param>
public sealed record PrototypeOptions(
    KMeansOptions? KMeans = null,
    int? PcaComponents = null,
    PcaOptions? Pca = null,
    bool ClosestRealSample = false,
    int? MiniBatchChunk = null,
    MiniBatchKMeansOptions? MiniBatch = null);
