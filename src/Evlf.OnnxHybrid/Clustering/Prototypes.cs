using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Clustering;

/// <summary>
/// Per-class prototypes for the pipelines: each class's samples are flattened to vectors and clustered into IPC
/// centres (k = IPC), which become MGD3/EVLF modes or D4M's img2img starting latents (PIPELINES.md §2, §3, §6).
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
            using var fit = KMeans.Fit(space, ipc, o.KMeans);
            Tensor vectors;
            long[]? indices = null;
            if (o.ClosestRealSample)
            {
                var (nearest, _) = SquaredDistances.Nearest(fit.Centroids.to(space.dtype), space);
                indices = nearest.data<long>().ToArray();
                vectors = flat.index_select(0, nearest);
            }
            else vectors = pca?.InverseTransform(fit.Centroids) ?? fit.Centroids.clone();

            long[] shape = [ipc, .. samples.shape.Skip(1)];
            var result = vectors.to(samples.dtype).reshape(shape).contiguous().MoveToOuterDisposeScope();
            return new ClassPrototypes(classIndex, result, indices, fit.Inertia, fit.Iterations);
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

    static void CheckIpc(int ipc, long available, int classIndex)
    {
        if (ipc < 1)
            throw new ArgumentException($"IPC (prototypes per class) must be at least 1; got {ipc}.", nameof(ipc));
        if (ipc > available)
            throw new ArgumentException($"Class {classIndex} has {available} samples, fewer than IPC = {ipc}; choose IPC ≤ {available} or add samples.", nameof(ipc));
    }
}
