using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

/// <summary>Element-wise closeness, |a − e| ≤ atol + rtol·|e|, compared in float64, with the worst element reported.</summary>
public static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64);
        var a = actual.to(ScalarType.Float64);
        Assert.True(e.shape.SequenceEqual(a.shape) || e.numel() == 1 || a.numel() == 1,
            $"{what}: shape [{string.Join(",", a.shape)}] vs expected [{string.Join(",", e.shape)}].");
        var diff = (a - e).abs();
        var excess = diff - (e.abs() * rtol + atol);
        double worst = excess.max().item<double>();
        double maxAbs = diff.max().item<double>();
        Assert.True(worst <= 0 && !double.IsNaN(maxAbs),
            $"{what}: max |a − e| = {maxAbs:E3} exceeds atol {atol:E1} + rtol {rtol:E1}·|e|.");
    }

    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double rtol, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= rtol * Math.Abs(expected[i]),
                $"{what}[{i}]: {actual[i]:R} vs expected {expected[i]:R} (relative error {Math.Abs(actual[i] - expected[i]) / Math.Abs(expected[i]):E2} > {rtol:E1}).");
    }

    /// <summary>The largest |a − e| / max(|e|, floor), for reporting achieved tolerances.</summary>
    public static double MaxRelative(Tensor expected, Tensor actual, double floor = 1.0)
    {
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64);
        var a = actual.to(ScalarType.Float64);
        return ((a - e).abs() / e.abs().clamp_min(floor)).max().item<double>();
    }
}
