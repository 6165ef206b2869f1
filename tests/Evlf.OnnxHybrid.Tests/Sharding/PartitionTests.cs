using Evlf.OnnxHybrid.Sharding;

namespace Evlf.OnnxHybrid.Tests.Sharding;

/// <summary>The partition's properties over every small case: cover, order, balance, and unit alignment.</summary>
public class PartitionTests
{
    [Fact]
    public void RangesCoverEveryItemOnceInOrderWithSizesWithinOne()
    {
        for (int items = 0; items <= 40; items++)
            for (int count = 1; count <= 12; count++)
            {
                var ranges = Enumerable.Range(0, count).Select(i => Partition.Range(items, count, i)).ToList();
                int next = 0;
                foreach (var (start, length) in ranges)
                {
                    Assert.Equal(next, start);
                    next = start + length;
                }
                Assert.Equal(items, next);
                Assert.InRange(ranges.Max(r => r.Length) - ranges.Min(r => r.Length), 0, 1);
                // The larger ranges come first.
                Assert.True(ranges.Select(r => r.Length).SequenceEqual(ranges.Select(r => r.Length).OrderDescending()));
            }
    }

    [Fact]
    public void UnitRangesStartOnUnitBoundariesAndCoverEveryItem()
    {
        for (int items = 0; items <= 60; items += 3)
            for (int unit = 1; unit <= 7; unit++)
                for (int count = 1; count <= 9; count++)
                {
                    int next = 0;
                    for (int i = 0; i < count; i++)
                    {
                        var (start, length) = Partition.UnitRange(items, unit, count, i);
                        Assert.Equal(next, start);
                        if (length > 0) Assert.Equal(0, start % unit);
                        next = start + length;
                    }
                    Assert.Equal(items, next);
                }
    }

    [Fact]
    public void KnownSplits()
    {
        Assert.Equal([(0, 4), (4, 3), (7, 3)], Enumerable.Range(0, 3).Select(i => Partition.Range(10, 3, i)));
        Assert.Equal([(0, 1), (1, 1), (2, 0), (2, 0)], Enumerable.Range(0, 4).Select(i => Partition.Range(2, 4, i)));
        // 1203 rows in units of 500: 3 units (500, 500, 203) over 2 shards.
        Assert.Equal([(0, 1000), (1000, 203)], Enumerable.Range(0, 2).Select(i => Partition.UnitRange(1203, 500, 2, i)));
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Range(5, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Range(5, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Range(-1, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.UnitRange(5, 0, 2, 0));
    }
}
