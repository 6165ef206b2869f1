using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Bundles;

/// <summary>The library side of `evlf inspect BUNDLE --parity` (the command's own lines are tested in Export/InspectBundleParityTests).</summary>
public class BundleParityTests
{
    [Fact]
    public void EachComponentsInputsComeBeforeItsOutputsAtTheBundlesSizes()
    {
        using var dir = new TempDir();
        var bundle = ModelBundle.Load(TinyBundle.Create(dir.Path));
        var entries = BundleParity.ImporterVsOnnxRuntime(bundle, seed: 0, batch: 3, new Dictionary<string, long>()).ToList();
        Assert.Equal(["vae_encoder", "vae_decoder", "dit"], entries.OfType<ParityInputs>().Select(e => e.Component));
        for (int i = 0; i < entries.Count; i++)
            if (entries[i] is ParityOutput output)
                Assert.Equal(output.Component, entries.Take(i).OfType<ParityInputs>().Last().Component);
        var outputs = entries.OfType<ParityOutput>().ToList();
        Assert.Contains(outputs, o => o.Component == "vae_decoder" && o.Diff.Shape.SequenceEqual(new long[] { 3, 1, 16, 16 }));
        Assert.All(outputs, o => Assert.InRange(o.Diff.MaxAbsDiff, 0, 1e-4));
        Assert.Equal("image Float32[3,1,16,16]", entries.OfType<ParityInputs>().First().Described);
        Assert.False(BundleParity.HasPyTorchReference(bundle));
    }

    [Fact]
    public void AnOutputFailsWhenItsDifferenceExceedsTheToleranceTimesItsMagnitudeAboveOne()
    {
        var verdict = new ParityVerdict(1e-3);
        Assert.Equal("", verdict.Mark(5e-3, 10));      // relative: 5e-4 of the magnitude
        Assert.Equal("  FAIL", verdict.Mark(2e-3, 0.5)); // absolute below magnitude 1
        Assert.Equal("", verdict.Mark(1e-3, 0));
        Assert.Equal((3, 5e-3), (verdict.Checked, verdict.Worst));
        Assert.True(verdict.Failed);
        Assert.Equal("parity FAILED (x): 1 of 3 outputs exceed 0.001 × max(1, max_abs_value)", verdict.Summary("x"));
    }
}
