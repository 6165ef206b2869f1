using Evlf.OnnxHybrid.Diffusion;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class TimestepSpacingTests
{
    [Fact]
    public void FiftyOfAThousandKeepsRoundOfIStride()
    {
        // docs/PIPELINES.md §1: space_timesteps(1000, "50") keeps round(i·999/49) → {0, 20, 41, 61, 82, …, 979, 999}.
        var expected = Enumerable.Range(0, 50).Select(i => (int)Math.Round(i * 999.0 / 49.0, MidpointRounding.ToEven)).ToArray();
        int[] kept = TimestepSpacing.SpaceTimesteps(1000, "50");
        Assert.Equal(expected, kept);
        Assert.Equal(new[] { 0, 20, 41, 61, 82 }, kept.Take(5));
        Assert.Equal(new[] { 979, 999 }, kept.TakeLast(2));
    }

    public static IEnumerable<object[]> RespaceCases() => ReferenceVectors.Cases("respace_");

    [Theory]
    [MemberData(nameof(RespaceCases))]
    public void IddpmSpacingMatchesTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        Assert.Equal(v.Ints("kept"), TimestepSpacing.SpaceTimesteps(1000, v.String("spec")));
    }

    [Fact]
    public void PortionsRoundHalfToEvenAsPythonDoes()
    {
        // 999/6 = 166.5 exactly: Python's round gives 166 and 832 where half-up rounding would give 167 and 833.
        Assert.Equal(new[] { 0, 166, 333, 500, 666, 832, 999 }, TimestepSpacing.SpaceTimesteps(1000, "7"));
    }

    [Fact]
    public void DdimSpacingUsesTheIntegerStrideWithExactlyKSteps()
    {
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 20 * i), TimestepSpacing.SpaceTimesteps(1000, "ddim50"));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => 3 * i), TimestepSpacing.SpaceTimesteps(10, "ddim4"));
        var e = Assert.Throws<ArgumentException>(() => TimestepSpacing.SpaceTimesteps(1000, "ddim501"));
        Assert.Contains("501", e.Message);
    }

    public static IEnumerable<object[]> DiffusersCases() => ReferenceVectors.Cases("spacing_");

    [Theory]
    [MemberData(nameof(DiffusersCases))]
    public void DiffusersSpacingsMatchTheReference(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var kind = v.String("spacing") switch
        {
            "leading" => TimestepSpacingKind.Leading,
            "trailing" => TimestepSpacingKind.Trailing,
            "linspace" => TimestepSpacingKind.Linspace,
            var other => throw new InvalidDataException(other),
        };
        Assert.Equal(v.Ints("timesteps"), TimestepSpacing.ForInference(1000, v.Int("steps"), kind, v.Int("steps_offset")));
    }

    [Fact]
    public void StableDiffusionLeadingScheduleStartsAt981()
    {
        int[] ts = TimestepSpacing.ForInference(1000, 50, TimestepSpacingKind.Leading, stepsOffset: 1);
        Assert.Equal(1, ts[0]);
        Assert.Equal(981, ts[^1]);
        Assert.All(ts.Zip(ts.Skip(1)), p => Assert.Equal(20, p.Second - p.First));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("10,-2")]
    [InlineData("1001")]
    public void BadSpecificationsAreRejected(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => TimestepSpacing.SpaceTimesteps(1000, spec));
        Assert.Contains(spec == "" ? "spacing" : spec, e.Message);
    }

    [Fact]
    public void OffsetsThatLeaveTheProcessAreRejected()
    {
        Assert.Throws<ArgumentException>(() => TimestepSpacing.ForInference(1000, 50, TimestepSpacingKind.Leading, stepsOffset: 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.ForInference(1000, 0, TimestepSpacingKind.Trailing));
    }
}
