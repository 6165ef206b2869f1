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

    [Fact]
    public void AWorkFolderOutlivesAFailedRunAndOnlyTheProducerMakesIt()
    {
        using var dir = new TempDir();
        const string key = "0123456789abcdef";
        string work = Path.Combine(dir.Combine("run"), RunFolder.StagesFolder, $"train-{key}.work");

        using (var run = new RunFolder(dir.Combine("run")))
        {
            // A run killed in the middle of training: its checkpoint stays for the next run.
            Assert.Throws<InvalidOperationException>(() => run.Stage("train", key, (_, w) =>
            {
                File.WriteAllText(Path.Combine(w, "checkpoint"), "step 5");
                throw new InvalidOperationException("killed");
            }));
        }
        Assert.Equal("step 5", File.ReadAllText(Path.Combine(work, "checkpoint")));

        using (var run = new RunFolder(dir.Combine("run"), force: true))
        {
            string resumedFrom = "";
            run.Stage("train", key, (_, w) => resumedFrom = File.ReadAllText(Path.Combine(w, "checkpoint")));
            Assert.Equal("step 5", resumedFrom);
            Assert.False(Directory.Exists(work), "the finished stage's work folder is deleted");

            // A process that finds the stage finished (a shard beside another) neither makes nor needs the work folder,
            // and removes one that a run killed after finishing the stage left behind.
            run.Stage("train", key, (_, _) => throw new InvalidOperationException("finished already"));
            Assert.False(Directory.Exists(work));
            Directory.CreateDirectory(work);
            run.Stage("train", key, (_, _) => throw new InvalidOperationException("finished already"));
            Assert.False(Directory.Exists(work));
        }
    }
}
