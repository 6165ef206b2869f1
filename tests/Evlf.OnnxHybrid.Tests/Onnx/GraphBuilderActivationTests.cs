using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Activations (decomposed, no Gelu/Silu ops) and dropout: identity in inference, seeded in training.</summary>
public class GraphBuilderActivationTests : OneLayerGraphTest
{
    [Fact]
    public void ActivationsMatchFunctionalOps()
    {
        var cases = new (string Name, Func<GraphBuilder, Value, Value> Build, Func<Tensor, Tensor> Reference)[]
        {
            ("relu", (g, x) => g.Relu(x), x => F.relu(x)),
            ("silu", (g, x) => g.Silu(x), x => F.silu(x)),
            ("gelu", (g, x) => g.Gelu(x), x => F.gelu(x)),
            ("gelu-tanh", (g, x) => g.Gelu(x, GeluApproximation.Tanh), x => F.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh)),
            ("sigmoid", (g, x) => g.Sigmoid(x), x => x.sigmoid()),
            ("tanh", (g, x) => g.Tanh(x), x => x.tanh()),
        };
        foreach (var (name, build, reference) in cases)
        {
            var model = OneLayer(build, 4, 5);
            Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Gelu" or "Silu");
            GraphRun.CheckBatches(model, n => Randn(n, 4, 5) * 3, reference);
        }
        // The two GELUs differ, so each test above pins its own formula.
        using var probe = tensor(new float[] { -2.5f, 1.7f });
        Assert.True((F.gelu(probe) - F.gelu(probe, TorchSharp.Modules.GELU.Approximate.tanh)).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void DropoutIsIdentityInInferenceAndCarriesItsRatio()
    {
        var model = OneLayer((g, x) => g.Dropout(x, 0.3), 4, 5);
        var dropout = Assert.Single(model.Graph.Node, n => n.OpType == "Dropout");
        var ratio = model.Graph.Node.Single(n => n.Output[0] == dropout.Input[1]);
        Assert.Equal("Constant", ratio.OpType);
        Assert.Equal(0.3f, OnnxTensor.ToFloats(ratio.Attribute[0].T)[0]);
        Assert.Single(dropout.Output);
        GraphRun.CheckBatches(model, n => Randn(n, 4, 5), x => x, tolerance: 0);

        var none = OneLayer((g, x) => g.Relu(g.Dropout(x, 0)), 4);
        Assert.DoesNotContain(none.Graph.Node, n => n.OpType == "Dropout");
        Assert.Throws<ArgumentOutOfRangeException>(() => OneLayer((g, x) => g.Dropout(x, 1), 4));
    }

    [Fact]
    public void TrainingDropoutDrawsFromTheModulesGeneratorWhenGiven()
    {
        using var scope = NewDisposeScope();
        using var module = OnnxTorchModule.FromModel(OneLayer((g, x) => g.Dropout(x, 0.5), 1000));
        module.train();
        var x = ones(2, 1000);
        using var generator = new Generator(0);
        module.RandomGenerator = generator;
        generator.manual_seed(42);
        var first = module.Run(x)[0];
        rand(1000);   // other work drawing from the global generator in between
        generator.manual_seed(42);
        var second = module.Run(x)[0];
        Assert.True(first.eq(second).all().item<bool>());
        // Inverted dropout: kept entries scaled by 1/(1−p), about half of them kept.
        Assert.True(first.eq(0).logical_or(first.eq(2)).all().item<bool>());
        double kept = first.eq(2).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(kept, 0.45, 0.55);
    }
}
