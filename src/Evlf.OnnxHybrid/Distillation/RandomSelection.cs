using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// The "random real subset" baseline of DC/DSA's Table 1: k training images per class drawn uniformly without
/// replacement. Deterministic for a seed: each class is shuffled with its own stream derived from
/// (seed, class), so the choice for one class does not depend on the others.
/// </summary>
public static class RandomSelection
{
    /// <summary>
    /// For each class 0 .. <paramref name="classCount"/> − 1, <paramref name="ipc"/> indices into
    /// <paramref name="split"/>, in draw order. Throws <see cref="UserInputException"/> when a class has fewer images.
    /// </summary>
    public static int[][] Select(DatasetSplit split, int classCount, int ipc, long seed)
    {
        if (ipc < 1) throw new UserInputException($"Images per class must be 1 or more; got {ipc}.");
        var byClass = IndicesByClass(split, classCount);
        var chosen = new int[classCount][];
        for (int c = 0; c < classCount; c++)
        {
            var pool = byClass[c].ToArray();
            if (pool.Length < ipc)
                throw new UserInputException($"Class {c} of split '{split.Name}' has {pool.Length} images; {ipc} per class were asked for.");
            var random = Seeds.Random(seed, SeedStream.RandomSelection, c);
            // Partial Fisher–Yates: the first ipc slots become a uniform sample without replacement.
            for (int i = 0; i < ipc; i++)
            {
                int j = random.Next(i, pool.Length);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
            chosen[c] = pool[..ipc];
        }
        return chosen;
    }

    /// <summary>The indices of each class's samples, in split order.</summary>
    public static List<int>[] IndicesByClass(DatasetSplit split, int classCount)
    {
        var byClass = Enumerable.Range(0, classCount).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < split.Count; i++)
        {
            int label = split.LabelOf(i);
            if ((uint)label >= (uint)classCount)
                throw new UserInputException($"Sample {split.SourceOf(i)} has label {label}, outside 0..{classCount - 1}.");
            byClass[label].Add(i);
        }
        return byClass;
    }
}
