namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Mini-batch k-means as D4M runs it (scikit-learn MiniBatchKMeans(k = IPC, random_state 0) fed by partial_fit,
/// docs/PIPELINES.md §6); defaults are scikit-learn's.
/// </summary>
/// <param name="Seed">Seeds the initial subsample, the k-means++ draws and random reassignments.</param>
/// <param name="BatchSize">Only sizes the initialisation subsample (3 × batch size) and the reassignment clock, as in scikit-learn's partial_fit; each chunk is one step whatever its size.</param>
/// <param name="InitSize">Rows (drawn with replacement from the first chunk) k-means++ initialises on; null is 3 × min(BatchSize, first chunk), at least 3k, at most the first chunk.</param>
/// <param name="ReassignmentRatio">Centres whose count falls below this fraction of the largest count are moved to random rows of the chunk, at most every 10·k rows seen (or whenever a centre has no count); 0 never reassigns.</param>
/// <param name="LocalTrials">k-means++ candidates tried per centre; null is 2 + ⌊ln k⌋.</param>
public sealed record MiniBatchKMeansOptions(
    int Seed = 0,
    int BatchSize = 1024,
    int? InitSize = null,
    double ReassignmentRatio = 0.01,
    int? LocalTrials = null);
