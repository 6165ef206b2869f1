using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class Img2ImgStartTests
{
    static readonly NoiseSchedule Sd = NoiseSchedule.Create(NoiseScheduleOptions.StableDiffusion);
    static readonly SpacedSchedule Sd50 = SpacedSchedule.ForInference(Sd, 50, TimestepSpacingKind.Leading, stepsOffset: 1);

    public static IEnumerable<object[]> StartCases() => ReferenceVectors.Cases("img2img_");

    [Theory]
    [MemberData(nameof(StartCases))]
    public void StartMatchesDiffusersRuleAndNoisesTheLatent(string caseName)
    {
        var v = new ReferenceVectors(caseName);
        var start = Img2ImgStart.Create(Sd50, v.Double("strength"));
        Assert.Equal(v.Int("timestep"), start.Timestep);
        Assert.Equal(v.Int("evaluations"), start.Evaluations);
        Assert.Equal(start.Timestep, Sd50.ModelTimestep(start.Index));
        using var scope = NewDisposeScope();
        TensorAssert.Close(v.Tensor("x_t"), start.Noise(v.Tensor("x0"), v.Tensor("noise")), 1e-6, 1e-6, $"{caseName} x_t");
    }

    [Fact]
    public void D4MStrengthOnDdimStartsOneStepLaterThanPndm()
    {
        // docs/PIPELINES.md §6: PNDM, strength 0.7, 50 steps → t = 701 and 36 evaluations (its list repeats 961).
        var v = new ReferenceVectors("img2img_s70");
        Assert.Equal(701, v.Int("pndm_timestep"));
        Assert.Equal(36, v.Int("pndm_evaluations"));
        // The DDIM equivalent on the same leading/offset-1 timesteps.
        var start = Img2ImgStart.Create(Sd50, 0.7);
        Assert.Equal(681, start.Timestep);
        Assert.Equal(35, start.Evaluations);
        Assert.Equal(34, start.Index);
    }

    [Fact]
    public void FullStrengthStartsAtTheFirstStepAndTinyStrengthIsRejected()
    {
        var full = Img2ImgStart.Create(Sd50, 1.0);
        Assert.Equal(49, full.Index);
        Assert.Equal(981, full.Timestep);
        Assert.Throws<ArgumentOutOfRangeException>(() => Img2ImgStart.Create(Sd50, 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => Img2ImgStart.Create(Sd50, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Img2ImgStart.Create(Sd50, double.NaN));
    }
}
