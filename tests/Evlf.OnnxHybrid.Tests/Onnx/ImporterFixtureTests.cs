using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>The importer against PyTorch's own outputs and against ONNX Runtime, on torch.onnx exports of the real architectures.</summary>
public class ImporterFixtureTests
{
    public static IEnumerable<object[]> Fixtures => Fixture.TorchExported.Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ImporterMatchesPyTorch(string name)
    {
        using var scope = NewDisposeScope();
        var fx = new Fixture(name);
        using var module = OnnxTorchModule.Load(fx.ModelPath);
        module.eval();
        Dictionary<string, Tensor> actual;
        using (no_grad()) actual = module.forward(fx.Inputs());
        foreach (var (output, expected) in fx.Outputs())
        {
            Assert.Equal(expected.shape, actual[output].shape);
            double diff = (actual[output] - expected).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"{name}/{output}: importer vs PyTorch max |diff| = {diff:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ImporterMatchesOnnxRuntime(string name)
    {
        var fx = new Fixture(name);
        using var scope = NewDisposeScope();
        var diffs = ParityCheck.Run(fx.Load(), fx.Inputs());
        Assert.NotEmpty(diffs);
        foreach (var d in diffs)
        {
            Assert.True(d.MaxAbsDiff <= 1e-4, $"{name}/{d.Name}: importer vs ONNX Runtime max |diff| = {d.MaxAbsDiff:E2}");
            Assert.True(d.MaxAbsValue > 1e-3, $"{name}/{d.Name}: outputs are all ~0, so the comparison proves nothing");
        }
    }

    [Theory]
    [InlineData("dit", 3)]
    [InlineData("unet", 1)]
    [InlineData("clip_text", 5)]
    public void DynamicBatchWorksInBothExecutors(string name, int batch)
    {
        var fx = new Fixture(name);
        using var scope = NewDisposeScope();
        var model = fx.Load();
        var inputs = RandomInputs.For(model, seed: 3, batch: batch);
        foreach (var d in ParityCheck.Run(model, inputs))
        {
            Assert.Equal(batch, d.Shape[0]);
            Assert.True(d.MaxAbsDiff <= 1e-4, $"{name}/{d.Name} at batch {batch}: {d.MaxAbsDiff:E2}");
        }
    }
}
