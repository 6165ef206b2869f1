using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Distillation;

public class RunFolderTests
{
    [Fact]
    public void AStageProducedInsideAnotherHasItsOwnRecordAndTimeAndIsListedOnce()
    {
        using var dir = new TempDir();
        using var run = new RunFolder(dir.Combine("run"));
        run.Stage("outer", "0123456789abcdef", _ =>
        {
            run.Stage("inner", "fedcba9876543210", _ => Thread.Sleep(1000));
        });
        run.Stage("inner", "fedcba9876543210", _ => throw new InvalidOperationException("finished already"));

        Assert.Equal(["inner", "outer"], run.Records.Select(r => r.Stage));
        var (inner, outer) = (run.Records[0], run.Records[1]);
        Assert.False(inner.Cached);
        Assert.True(inner.Seconds >= 1.0, $"inner {inner.Seconds} s");
        // The outer stage's own time (a few folder operations), not the inner stage's second as well.
        Assert.True(outer.Seconds < 0.5, $"outer {outer.Seconds} s");
    }
}
