using Evlf.OnnxHybrid.Bundles;

namespace Evlf.OnnxHybrid.Tests.Bundles;

/// <summary>
/// A denoiser says how many sampling steps it can take (its schedule's training timesteps),
/// so that a command can check <c>--steps</c> against it before any work starts.
/// </summary>
public class SamplingStepsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-sampling-steps-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void MaxSamplingStepsIsTheScheduleLengthAndBoundsSteps()
    {
        var dir = TinyBundle.Create(Path.Combine(root, "b"), m =>
            m with { Denoisers = new() { ["dit"] = m.Denoisers["dit"] with { Schedule = ScheduleSpec.Linear with { Steps = 40 } } } });
        var bundle = ModelBundle.Load(dir);
        var dit = bundle.Denoiser("dit");
        Assert.Equal(40, dit.MaxSamplingSteps);

        BundleRuntime.CheckSampling(bundle, "dit", new SampleOptions(Steps: dit.MaxSamplingSteps));
        BundleRuntime.CheckSampling(bundle, "dit", new SampleOptions(Steps: 1));
        var e = Assert.Throws<UserInputException>(() => BundleRuntime.CheckSampling(bundle, "dit", new SampleOptions(Steps: dit.MaxSamplingSteps + 1)));
        Assert.Contains("expected 1 to 40", e.Message);
        Assert.Throws<UserInputException>(() => BundleRuntime.CheckSampling(bundle, "dit", new SampleOptions(Steps: 0)));
    }

    [Fact]
    public void MaxSamplingStepsIsNotWrittenToBundleJson()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new DenoiserSpec(), BundleManifest.Json);
        Assert.DoesNotContain("MaxSamplingSteps", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("max_sampling", json, StringComparison.OrdinalIgnoreCase);
    }
}
