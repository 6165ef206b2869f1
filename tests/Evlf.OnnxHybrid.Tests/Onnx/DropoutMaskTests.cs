using Evlf.OnnxHybrid.Onnx.Ops;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>The counter-hash dropout masks: right rate, right scale, reproducible, uncorrelated, and the vector path equal to the formula.</summary>
public class DropoutMaskTests
{
    // The formula, written out independently of the library: MurmurHash3's fmix32, twice, on index·φ + seed_lo, xor seed_hi.
    static uint Fmix(uint h)
    {
        h ^= h >> 16; h = unchecked(h * 0x85EBCA6Bu);
        h ^= h >> 13; h = unchecked(h * 0xC2B2AE35u);
        return h ^ (h >> 16);
    }

    static bool Kept(long i, double ratio, ulong seed) =>
        Fmix(Fmix(unchecked((uint)i * 0x9E3779B9u + (uint)seed)) ^ (uint)(seed >> 32)) >= (uint)Math.Round(ratio * 4294967296.0);

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void DropsTheRatioAndScalesTheRest(double ratio)
    {
        using var scope = NewDisposeScope();
        var mask = DropoutMask.Scale(new long[] { 1000, 1000 }, ratio, 42);
        double dropped = mask.eq(0).to(ScalarType.Float64).mean().item<double>();
        Assert.InRange(dropped, ratio - 0.002, ratio + 0.002);   // binomial sd ≤ 0.0005
        var kept = mask.masked_select(mask.ne(0));
        Assert.True(kept.eq((float)(1 / (1 - ratio))).all().item<bool>());
        Assert.InRange(mask.to(ScalarType.Float64).mean().item<double>(), 0.99, 1.01);   // E[mask] = 1
    }

    [Fact]
    public void VectorPathEqualsTheFormulaIncludingTheTail()
    {
        using var scope = NewDisposeScope();
        const ulong seed = 0xDEADBEEF12345678;
        var mask = DropoutMask.Scale(new long[] { 7, 11 }, 0.3, seed).reshape(-1).data<float>().ToArray();   // 77 = 9·8 + 5
        for (int i = 0; i < mask.Length; i++) Assert.Equal(Kept(i, 0.3, seed), mask[i] != 0);
    }

    [Fact]
    public void SameSeedSameMaskAndNeighboursUncorrelated()
    {
        using var scope = NewDisposeScope();
        var a = DropoutMask.Scale(new long[] { 1 << 20 }, 0.5, 7);
        Assert.True(a.eq(DropoutMask.Scale(new long[] { 1 << 20 }, 0.5, 7)).all().item<bool>());
        var b = DropoutMask.Scale(new long[] { 1 << 20 }, 0.5, 8);
        Assert.InRange(a.ne(b).to(ScalarType.Float64).mean().item<double>(), 0.49, 0.51);   // independent masks disagree half the time
        // Lag-1 and lag-8 (one vector apart) correlation of the keep indicators.
        var k = a.ne(0).to(ScalarType.Float64);
        k = k - k.mean();
        foreach (long lag in new long[] { 1, 8 })
        {
            double r = (k.narrow(0, 0, k.shape[0] - lag) * k.narrow(0, lag, k.shape[0] - lag)).mean().item<double>() / k.square().mean().item<double>();
            Assert.InRange(r, -0.01, 0.01);
        }
    }

    [Fact]
    public void SeedsComeFromTheGenerator()
    {
        Assert.Equal(DropoutMask.DrawSeed(new Generator(3)), DropoutMask.DrawSeed(new Generator(3)));
        Assert.NotEqual(DropoutMask.DrawSeed(new Generator(3)), DropoutMask.DrawSeed(new Generator(4)));
    }
}
