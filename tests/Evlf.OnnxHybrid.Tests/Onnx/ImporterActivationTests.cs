using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Each unary activation of the importer against ONNX Runtime running the same one-node graph.</summary>
public class ImporterActivationTests
{
    [Theory]
    [InlineData("Tanh", 17)]
    [InlineData("Sigmoid", 17)]
    [InlineData("Relu", 17)]
    [InlineData("LeakyRelu", 17)]
    [InlineData("Elu", 17)]
    [InlineData("Selu", 17)]
    [InlineData("Softplus", 17)]
    [InlineData("Softsign", 17)]
    [InlineData("HardSigmoid", 17)]
    [InlineData("HardSwish", 17)]
    [InlineData("Erf", 17)]
    [InlineData("Mish", 18)]
    public void MatchesOnnxRuntime(string op, long opset)
    {
        using var scope = NewDisposeScope();
        var g = new OpGraph();
        var x = g.Input("x", DT.Float, 4, 64);
        g.Output(g.Node(op, [x]), DT.Float);
        var model = g.Build(opset);
        // Values over [−6, 6], where every one of these functions bends, saturates or switches branch.
        var input = linspace(-6, 6, 256).reshape(4, 64);
        using var session = GraphRun.Session(model);
        var expected = GraphRun.Run(session, ("x", input))[0];
        using var module = OnnxTorchModule.FromModel(model);
        module.eval();
        var actual = module.Run(input)[0];
        double diff = (actual - expected).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"{op}: max |importer − ONNX Runtime| = {diff:G3}");
    }
}
