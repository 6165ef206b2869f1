namespace Evlf.OnnxHybrid.Sharding;

/// <summary>
/// How work items split over shards: contiguous ranges whose sizes differ by at most one, the larger ones first (items
/// 0..9 over 3 shards: 0..3, 4..6, 7..9). It depends only on the item count and the shard count, so every process computes
/// the same ranges, and together the ranges cover every item exactly once in order.
/// </summary>
public static class Partition
{
    /// <summary>The items of <paramref name="index"/> among <paramref name="count"/> shards over <paramref name="items"/> items: its start and length (0 when there are fewer items than shards).</summary>
    public static (int Start, int Length) Range(int items, int count, int index)
    {
        if (items < 0) throw new ArgumentOutOfRangeException(nameof(items), items, "The number of items cannot be negative.");
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "There must be at least one shard.");
        if (index < 0 || index >= count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The shard index must lie in 0..{count - 1}.");
        int baseLength = items / count, extra = items % count;
        int start = index * baseLength + Math.Min(index, extra);
        return (start, baseLength + (index < extra ? 1 : 0));
    }

    /// <summary>The units (of <paramref name="unit"/> items each, the last one shorter) of <paramref name="items"/> items that shard <paramref name="index"/> of <paramref name="count"/> takes, as a range of items.</summary>
    public static (int Start, int Length) UnitRange(int items, int unit, int count, int index)
    {
        if (unit < 1) throw new ArgumentOutOfRangeException(nameof(unit), unit, "A unit holds at least one item.");
        int units = (items + unit - 1) / unit;
        var (first, length) = Range(units, count, index);
        int start = Math.Min(items, first * unit);
        return (start, Math.Min(items, (first + length) * unit) - start);
    }
}
