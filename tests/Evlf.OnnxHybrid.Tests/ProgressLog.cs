namespace Evlf.OnnxHybrid.Tests;

/// <summary>Collects <see cref="WorkProgress"/> reports (from any thread) and checks that each task counts up to its total.</summary>
public sealed class ProgressLog : IProgress<WorkProgress>
{
    readonly List<WorkProgress> items = [];

    public IReadOnlyList<WorkProgress> Items { get { lock (items) return items.ToArray(); } }

    public void Report(WorkProgress value) { lock (items) items.Add(value); }

    /// <summary>
    /// Every task reported is one of <paramref name="tasks"/> and each of those reported; within a task the total stays
    /// the same, done never falls nor passes the total, and the last report is done = total.
    /// </summary>
    public void AssertCountsUpToTotal(params string[] tasks)
    {
        var all = Items;
        Assert.Equal(tasks.Order(StringComparer.Ordinal), all.Select(p => p.Task).Distinct().Order(StringComparer.Ordinal));
        foreach (var task in all.GroupBy(p => p.Task))
        {
            var reports = task.ToArray();
            double total = reports[0].Total;
            Assert.True(total > 0, $"task '{task.Key}' has total {total}");
            for (int i = 0; i < reports.Length; i++)
            {
                Assert.Equal(total, reports[i].Total);
                Assert.InRange(reports[i].Done, i == 0 ? 0 : reports[i - 1].Done, total);
            }
            Assert.Equal(total, reports[^1].Done);
        }
    }
}
