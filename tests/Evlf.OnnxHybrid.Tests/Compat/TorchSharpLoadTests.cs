using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Compat;

/// <summary>Proves the native TorchSharp backend loads (the GLIBCXX compat step ran) and autograd works.</summary>
public class TorchSharpLoadTests
{
    [Fact]
    public void AutogradStepMatchesClosedForm()
    {
        // d/dx sum(x^3) = 3x^2; one SGD step x <- x - 0.1 * 3x^2.
        using var x = tensor(new float[] { 1f, -2f, 0.5f }).requires_grad_(true);
        using var y = x.pow(3).sum();
        y.backward();
        var g = x.grad!.data<float>().ToArray();
        Assert.Equal(new[] { 3f, 12f, 0.75f }, g);
        using (no_grad()) x.sub_(x.grad! * 0.1f);
        Assert.Equal(new[] { 0.7f, -3.2f, 0.425f }, x.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
    }
}
