using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>
/// Autograd through the importer against central finite differences, in float64, one graph per op family.
/// Each graph has a float64 input x and float64 weights; the scalar checked is sum(output ⊙ r) for a fixed random r.
/// </summary>
public class ImporterGradientTests
{
    static readonly Generator Rng = new(1234);

    static Tensor Rand(params long[] shape) => randn(shape, dtype: ScalarType.Float64, generator: Rng);

    /// <summary>Compares d f / d(x and every weight) with (f(v+h) − f(v−h)) / 2h at several random coordinates.</summary>
    static void CheckGradients(OnnxModel model, Tensor x, bool train = false)
    {
        using var scope = NewDisposeScope();
        using var module = OnnxTorchModule.FromModel(model); // const/ initializers stay frozen
        if (train) module.train(); else module.eval();
        var input = x.clone().requires_grad_(true);
        var first = module.Run(input)[0];
        var r = randn(first.shape, dtype: ScalarType.Float64, generator: Rng);

        double F()
        {
            using var s = NewDisposeScope();
            using var _ = no_grad();
            return (module.Run(input)[0] * r).sum().item<double>();
        }

        var loss = (first * r).sum();
        loss.backward();
        var checkedTensors = new List<(string Name, Tensor Value)> { ("x", input) };
        checkedTensors.AddRange(module.TrainableParameters.Select(p => (p.Name, (Tensor)p.Parameter)));
        Assert.True(checkedTensors.Count >= 1);
        var pick = new Random(7);
        const double h = 1e-6;
        foreach (var (name, value) in checkedTensors)
        {
            var grad = value.grad ?? throw new Xunit.Sdk.XunitException($"no gradient reached '{name}'");
            var flatGrad = grad.reshape(-1);
            for (int k = 0; k < Math.Min(6, value.NumberOfElements); k++)
            {
                long i = pick.NextInt64(value.NumberOfElements);
                double original;
                using (no_grad())
                {
                    var flat = value.view(-1);
                    original = flat[i].item<double>();
                    flat[i] = original + h;
                    double plus = F();
                    flat[i] = original - h;
                    double minus = F();
                    flat[i] = original;
                    double numeric = (plus - minus) / (2 * h);
                    double analytic = flatGrad[i].item<double>();
                    Assert.True(Math.Abs(numeric - analytic) <= 1e-5 + 1e-4 * Math.Abs(numeric),
                        $"{name}[{i}]: autograd {analytic:G8} vs finite difference {numeric:G8}");
                }
            }
        }
    }

    [Fact]
    public void ElementwiseAndActivations()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 2, 5);
        var w = g.Initializer("w", Rand(2, 5));
        var a = g.Node("Mul", new[] { x, w });
        var b = g.Node("Tanh", new[] { a });
        var two = g.Initializer("const/two", tensor(2.0));
        var c = g.Node("Pow", new[] { b, two });
        var d = g.Node("Sqrt", new[] { g.Node("Add", new[] { c, two }) });
        var e = g.Node("Mul", new[] { d, g.Node("Erf", new[] { x }) });
        var f = g.Node("Div", new[] { e, g.Node("Add", new[] { g.Node("Sigmoid", new[] { x }), two }) });
        var h = g.Node("Sub", new[] { f, g.Node("Log", new[] { g.Node("Add", new[] { g.Node("Exp", new[] { a }), two }) }) });
        var i = g.Node("Relu", new[] { g.Node("Neg", new[] { h }) });
        var y = g.Node("Add", new[] { i, g.Node("Sin", new[] { g.Node("Cos", new[] { h }) }) });
        g.Output(y, DT.Double);
        CheckGradients(g.Build(), Rand(2, 5));
    }

    [Fact]
    public void MatMulAndGemm()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 3, 4);
        var w = g.Initializer("fc.weight", Rand(5, 4));
        var bias = g.Initializer("fc.bias", Rand(5));
        var y1 = g.Node("Gemm", new[] { x, w, bias }, ("transB", 1L), ("alpha", 0.5f));
        var w2 = g.Initializer("proj", Rand(5, 6));
        var y = g.Node("MatMul", new[] { y1, w2 });
        g.Output(y, DT.Double);
        CheckGradients(g.Build(), Rand(3, 4));
    }

    [Fact]
    public void ConvolutionWithAsymmetricPadsStridesAndGroups()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 2, 4, 6, 6);
        var w = g.Initializer("conv.weight", Rand(6, 2, 3, 3));
        var b = g.Initializer("conv.bias", Rand(6));
        var y1 = g.Node("Conv", new[] { x, w, b }, ("pads", new long[] { 0, 1, 1, 0 }), ("strides", new long[] { 2, 1 }), ("group", 2L));
        var wt = g.Initializer("up.weight", Rand(6, 3, 2, 2));
        var y = g.Node("ConvTranspose", new[] { y1, wt }, ("strides", new long[] { 2, 2 }));
        g.Output(y, DT.Double);
        CheckGradients(g.Build(), Rand(2, 4, 6, 6));
    }

    [Fact]
    public void Normalisations()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 3, 4, 2, 3);
        var ln = g.Node("LayerNormalization", new[] { x, g.Initializer("ln.weight", Rand(3)), g.Initializer("ln.bias", Rand(3)) }, ("axis", -1L), ("epsilon", 1e-5f));
        var inorm = g.Node("InstanceNormalization", new[] { ln, g.Initializer("in.weight", Rand(4)), g.Initializer("in.bias", Rand(4)) });
        var gn = g.Node("GroupNormalization", new[] { inorm, g.Initializer("gn.weight", Rand(4)), g.Initializer("gn.bias", Rand(4)) }, ("num_groups", 2L));
        var bn = g.Node("BatchNormalization", new[] { gn, g.Initializer("bn.weight", Rand(4)), g.Initializer("bn.bias", Rand(4)),
            g.Initializer("bn.running_mean", zeros(4, dtype: ScalarType.Float64)), g.Initializer("bn.running_var", ones(4, dtype: ScalarType.Float64)) });
        g.Output(bn, DT.Double);
        CheckGradients(g.Build(opset: 21), Rand(3, 4, 2, 3), train: true);
    }

    [Fact]
    public void SoftmaxFamily()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 2, 3, 5);
        var w = g.Initializer("w", Rand(2, 3, 5));
        var s = g.Node("Softmax", new[] { g.Node("Mul", new[] { x, w }) }, ("axis", -1L));
        var y = g.Node("Add", new[] { s, g.Node("LogSoftmax", new[] { x }, ("axis", 1L)) });
        g.Output(y, DT.Double);
        CheckGradients(g.Build(), Rand(2, 3, 5));
    }

    [Fact]
    public void PoolingAndResizing()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 1, 2, 4, 6);
        var w = g.Initializer("w", Rand(1, 2, 4, 6));
        var a = g.Node("Mul", new[] { x, w });
        var avg = g.Node("AveragePool", new[] { a }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        var up = g.Node("Resize", new[] { avg, "", g.Initializer("const/scales", tensor(new float[] { 1, 1, 2, 2 })) },
            ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));
        var lin = g.Node("Resize", new[] { a, "", "", g.Ints(new long[] { 1, 2, 8, 12 }) }, ("mode", "linear"), ("coordinate_transformation_mode", "half_pixel"));
        var mp = g.Node("MaxPool", new[] { lin }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        var sum = g.Node("Add", new[] { up, mp });
        var y = g.Node("Add", new[] { sum, g.Node("GlobalAveragePool", new[] { a }) });
        g.Output(y, DT.Double);
        CheckGradients(g.Build(), Rand(1, 2, 4, 6));
    }

    [Fact]
    public void ShapeAndDataMovement()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Double, 2, 3, 4);
        var w = g.Initializer("w", Rand(3, 4));
        var a = g.Node("Mul", new[] { x, w });
        var t = g.Node("Transpose", new[] { a }, ("perm", new long[] { 0, 2, 1 }));
        var r = g.Node("Reshape", new[] { t, g.Ints(new long[] { 0, -1 }) });
        var sl = g.Node("Slice", new[] { r, g.Ints(new long[] { 10 }), g.Ints(new long[] { 1 }), g.Ints(new long[] { 1 }), g.Ints(new long[] { -3 }) });
        var gathered = g.Node("Gather", new[] { r, g.Ints(new long[] { 0, 5, -1, 5 }) }, ("axis", 1L));
        var cat = g.Node("Concat", new[] { sl, gathered }, ("axis", 1L));
        var parts = g.NodeMulti("Split", new[] { cat, g.Ints(new long[] { 3, 4 }) }, 2, ("axis", 1L));
        var e = g.Node("Expand", new[] { g.Node("ReduceMean", new[] { parts[0] }, ("axes", new long[] { 1 }), ("keepdims", 1L)), g.Ints(new long[] { 2, 4 }) });
        var cond = g.Node("Greater", new[] { parts[1], g.Initializer("const/zero", tensor(0.0)) });
        var wh = g.Node("Where", new[] { cond, parts[1], e });
        var es = g.Node("Einsum", new[] { wh, g.Initializer("m", Rand(4, 3)) }, ("equation", "bi,ij->bj"));
        var y = g.Node("Add", new[] { es, g.Node("ReduceSum", new[] { parts[0], g.Ints(new long[] { 1 }) }, ("keepdims", 1L)) });
        g.Output(y, DT.Double);
        CheckGradients(g.Build(), Rand(2, 3, 4));
    }
}
