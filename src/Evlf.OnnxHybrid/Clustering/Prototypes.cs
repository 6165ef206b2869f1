using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Per-class prototypes for the pipelines: each class's samples are flattened to vectors and clustered into IPC
/// centres (k = IPC), which become MGD3/EVLF modes or D4M's img2img starting latents (docs/PIPELINES.md §2, §3, §6).
/// </summary>
public static class Prototypes
{
    /// <summary>
    /// The <paramref name="ipc"/> prototypes of one class from its samples (N, …); prototypes have the samples' shape.
    /// <see cref="ClassPrototypes.SampleIndices"/> index the rows of <paramref name="samples"/>.
    /// </summary>
    /// <exception cref="ArgumentException">IPC &lt; 1, or the class has fewer than IPC samples.</exception>
    public static ClassPrototypes ForClass(Tensor samples, int ipc, PrototypeOptions? options = null, int classIndex = 0)
    {
        if (samples.dim() < 2)
            throw new ArgumentException($"Class {classIndex} samples must be (N, …) with at least two dimensions; got [{string.Join(", ", samples.shape)}].", nameof(samples));
        CheckIpc(ipc, samples.shape[0], classIndex);
        var o = options ?? new PrototypeOptions();

        using var scope = NewDisposeScope();
        long n = samples.shape[0];
        var flat = samples.reshape(n, -1);
        Pca? pca = o.PcaComponents is int p ? Pca.Fit(flat, p, o.Pca) : null;
        try
        {
            var space = pca?.Transform(flat) ?? flat;
            var (centroids, inertia, iterations) = o.MiniBatchChunk is int chunk
                ? MiniBatchCentroids(space, ipc, chunk, o.MiniBatch)
                : LloydCentroids(space, ipc, o.KMeans);
            Tensor vectors;
            long[]? indices = null;
            if (o.ClosestRealSample)
            {
                var (nearest, _) = SquaredDistances.Nearest(centroids.to(space.dtype), space);
                indices = nearest.data<long>().ToArray();
                vectors = flat.index_select(0, nearest);
            }
            else vectors = pca?.InverseTransform(centroids) ?? centroids;

            long[] shape = [ipc, .. samples.shape.Skip(1)];
            var result = vectors.to(samples.dtype).reshape(shape).contiguous().MoveToOuterDisposeScope();
            return new ClassPrototypes(classIndex, result, indices, inertia, iterations);
        }
        finally
        {
            pca?.Dispose();
        }
    }

    /// <summary>
    /// Prototypes of classes 0 … <paramref name="classes"/> − 1 of a labelled set: <paramref name="samples"/> (N, …) and
    /// <paramref name="labels"/> (N) integer class indices. Every class is checked before any is clustered.
    /// <see cref="ClassPrototypes.SampleIndices"/> index the rows of <paramref name="samples"/>.
    /// </summary>
    /// <exception cref="ArgumentException">IPC &lt; 1, a label outside 0 … classes − 1, or a class with fewer than IPC samples.</exception>
    public static IReadOnlyList<ClassPrototypes> ForClasses(Tensor samples, Tensor labels, int classes, int ipc, PrototypeOptions? options = null)
    {
        if (labels.dim() != 1 || labels.shape[0] != samples.shape[0] || labels.is_floating_point())
            throw new ArgumentException($"Labels must be a (N) integer tensor with N = {samples.shape[0]} samples; got {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (classes < 1) throw new ArgumentException($"The number of classes must be at least 1; got {classes}.", nameof(classes));

        using var scope = NewDisposeScope();
        var l = labels.to(ScalarType.Int64);
        if (l.numel() > 0)
        {
            long lo = l.min().item<long>(), hi = l.max().item<long>();
            if (lo < 0 || hi >= classes)
                throw new ArgumentException($"Labels must lie in 0 … {classes - 1}; found {(lo < 0 ? lo : hi)}.", nameof(labels));
        }
        var counts = l.bincount(null, classes).data<long>().ToArray();
        for (int c = 0; c < classes; c++) CheckIpc(ipc, counts[c], c);

        var result = new List<ClassPrototypes>(classes);
        try
        {
            for (int c = 0; c < classes; c++)
            {
                using var perClass = NewDisposeScope();
                var rows = l.eq(c).nonzero().squeeze(1);
                var made = ForClass(samples.index_select(0, rows), ipc, options, c);
                if (made.SampleIndices is { } local)
                {
                    // Class-local rows → rows of the whole set.
                    var global = rows.data<long>().ToArray();
                    var mapped = local.Select(i => global[i]).ToArray();
                    var vectors = made.Vectors.DetachFromDisposeScope();
                    made = new ClassPrototypes(c, vectors, mapped, made.Inertia, made.Iterations);
                }
                else made.Vectors.DetachFromDisposeScope();
                result.Add(made);
            }
        }
        catch
        {
            foreach (var r in result) r.Dispose();
            throw;
        }
        return result;
    }

    static (Tensor Centroids, double Inertia, int Iterations) LloydCentroids(Tensor space, int ipc, KMeansOptions? options)
    {
        using var fit = KMeans.Fit(space, ipc, options);
        return (fit.Centroids.clone(), fit.Inertia, fit.Iterations);
    }

    /// <summary>One pass of mini-batch k-means over the rows in order; "iterations" are the chunks seen.</summary>
    static (Tensor Centroids, double Inertia, int Iterations) MiniBatchCentroids(Tensor space, int ipc, int chunk, MiniBatchKMeansOptions? options)
    {
        if (chunk < 1) throw new ArgumentException($"PrototypeOptions.MiniBatchChunk must be at least 1 row; got {chunk}.", nameof(chunk));
        using var model = new MiniBatchKMeans(ipc, options);
        long n = space.shape[0];
        // The first chunk initialises k-means++ and must hold at least IPC rows.
        long first = Math.Min(n, Math.Max(chunk, ipc));
        model.PartialFit(space.narrow(0, 0, first));
        for (long start = first; start < n; start += chunk)
            model.PartialFit(space.narrow(0, start, Math.Min(chunk, n - start)));
        return (model.Centroids!.clone(), model.Inertia(space), model.Steps);
    }

    static void CheckIpc(int ipc, long available, int classIndex)
    {
        if (ipc < 1)
            throw new ArgumentException($"IPC (prototypes per class) must be at least 1; got {ipc}.", nameof(ipc));
        if (ipc > available)
            throw new ArgumentException($"Class {classIndex} has {available} samples, fewer than IPC = {ipc}; choose IPC ≤ {available} or add samples.", nameof(ipc));
    }

    /// <summary>
    /// For each centre in order, the row of <paramref name="rows"/> closest to it (Euclidean) that no earlier centre took:
    /// (k) row indices, distinct.
    /// </summary>
    public static Tensor ClosestRows(Tensor rows, Tensor centres) => ClosestRows(rows, centres, 1);

    /// <summary>
    /// <paramref name="perCentre"/> rounds of <see cref="ClosestRows(Tensor, Tensor)"/>: in round r each centre in order
    /// takes the closest row no earlier pick took. (perCentre · k) row indices, distinct; index r·k + j is centre j's pick of
    /// round r, so the first k are <see cref="ClosestRows(Tensor, Tensor)"/>'s.
    /// </summary>
    /// <exception cref="ArgumentException">perCentre &lt; 1, or fewer rows than perCentre · k.</exception>
    public static Tensor ClosestRows(Tensor rows, Tensor centres, int perCentre)
    {
        long k = centres.shape[0];
        if (perCentre < 1) throw new ArgumentException($"Rows per centre must be at least 1; got {perCentre}.", nameof(perCentre));
        if (rows.shape[0] < perCentre * k)
            throw new ArgumentException($"{perCentre} distinct rows for each of {k} centres need {perCentre * k} rows; got {rows.shape[0]}.", nameof(rows));
        using var scope = NewDisposeScope();
        var distance = cdist(centres.to(float64), rows.to(float64));
        var picks = new long[perCentre * k];
        for (long n = 0; n < picks.Length; n++)
        {
            long i = distance[n % k].argmin().item<long>();
            picks[n] = i;
            distance.index_fill_(1, tensor(new[] { i }), double.PositiveInfinity);
        }
        return tensor(picks).MoveToOuterDisposeScope();
    }
}
