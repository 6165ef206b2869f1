using Evlf.OnnxHybrid.Sharding;

namespace Evlf.OnnxHybrid.Tests.Sharding;

public class ShardSpecTests
{
    static Func<string, string?> Env(params (string Name, string Value)[] set) => name => set.FirstOrDefault(s => s.Name == name).Value;

    [Fact]
    public void AutoReadsTheFirstIndexVariableThatIsSet()
    {
        Assert.Equal(3, ShardSpec.ResolveIndex("auto", Env(("SLURM_ARRAY_TASK_ID", "3"))));
        Assert.Equal(5, ShardSpec.ResolveIndex("AUTO", Env(("JOB_COMPLETION_INDEX", "5"))));
        Assert.Equal(1, ShardSpec.ResolveIndex("auto", Env(("EVLF_SHARD_INDEX", "1"), ("SLURM_ARRAY_TASK_ID", "3"), ("JOB_COMPLETION_INDEX", "4"))));
        Assert.Equal(7, ShardSpec.ResolveIndex("7", Env(("EVLF_SHARD_INDEX", "1"))));
    }

    [Fact]
    public void BadIndicesAreUserErrorsNamingTheOption()
    {
        var e = Assert.Throws<UserInputException>(() => ShardSpec.ResolveIndex("auto", Env()));
        Assert.Equal("ShardSpec.Index", e.Option);
        Assert.Contains("EVLF_SHARD_INDEX, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX", e.Message);
        e = Assert.Throws<UserInputException>(() => ShardSpec.ResolveIndex("auto", Env(("SLURM_ARRAY_TASK_ID", "x1"))));
        Assert.Contains("SLURM_ARRAY_TASK_ID is 'x1'", e.Message);
        Assert.Throws<UserInputException>(() => ShardSpec.ResolveIndex("-1", Env()));
        Assert.Throws<UserInputException>(() => ShardSpec.ResolveIndex("two", Env()));

        Assert.Equal("ShardSpec.Count", Assert.Throws<UserInputException>(() => new ShardSpec(0).Validate()).Option);
        Assert.Contains("must lie in 0..3 for 4 shards; got 4.", Assert.Throws<UserInputException>(() => new ShardSpec(4, 4).Validate()).Message);
        new ShardSpec(4, 3).Validate();
        new ShardSpec(1).Validate();
    }
}
