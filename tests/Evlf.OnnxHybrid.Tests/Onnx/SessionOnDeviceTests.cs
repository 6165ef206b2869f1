using Evlf.OnnxHybrid.Onnx;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>The tensor-in/tensor-out path (IOBinding over TorchSharp memory) and float16 models at the boundary, on the CPU.</summary>
public class SessionOnDeviceTests
{
    static readonly SessionSettings Cpu = new(ExecutionDevice.Cpu);

    /// <summary>Outputs relu(x·W + b) (Relu_2_out0) and −x (Neg_3_out0) over a free batch, in <paramref name="type"/> throughout (weights included).</summary>
    static OnnxModel Linear(DT type, Tensor w, Tensor b)
    {
        var g = new OpGraph();
        var x = g.Input("x", type, -1, w.shape[0]);
        var scalar = type == DT.Float16 ? ScalarType.Float16 : ScalarType.Float32;
        var wName = g.Initializer("w", w.to(scalar));
        var bName = g.Initializer("b", b.to(scalar));
        var y = g.Node("Relu", new[] { g.Node("Add", new[] { g.Node("MatMul", new[] { x, wName }), bName }) });
        var identity = g.Node("Neg", new[] { x });
        g.Output(y, type);
        g.Output(identity, type);
        return g.Build();
    }

    static (Tensor W, Tensor B, Tensor X) Draws(long batch = 5)
    {
        var gen = new Generator(3);
        return (randn(new long[] { 6, 4 }, generator: gen), randn(new long[] { 4 }, generator: gen), randn(new long[] { batch, 6 }, generator: gen));
    }

    [Fact]
    public void WrappedTensorIsSharedNotCopied()
    {
        using var t = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var value = TensorMemory.Wrap(t);
        t.mul_(10);
        Assert.Equal(new float[] { 0, 10, 20, 30, 40, 50 }, value.GetTensorDataAsSpan<float>().ToArray());
        Assert.Equal(new long[] { 2, 3 }, value.GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void NonContiguousTensorIsRefusedWithItsStrides()
    {
        using var t = zeros(3, 4).t();
        var e = Assert.Throws<ArgumentException>(() => TensorMemory.Wrap(t));
        Assert.Contains("contiguous", e.Message);
        Assert.Contains("strides [1,4]", e.Message);
    }

    [Fact]
    public void CpuMemoryInfoIsOrtsDefault()
    {
        Assert.Same(OrtMemoryInfo.DefaultInstance, TensorMemory.Info(CPU));
    }

    [Fact]
    public void RunOnDeviceGivesExactlyWhatRunGives()
    {
        var (w, b, x) = Draws();
        using var session = OnnxSession.FromModel(Linear(DT.Float, w, b), Cpu);
        Assert.Equal(DeviceType.CPU, session.TensorDevice.type);
        var expected = session.Run(new Dictionary<string, Tensor> { ["x"] = x });
        // The first call learns the output shapes, the second writes into tensors allocated in advance; a third at another batch learns again.
        for (int call = 0; call < 2; call++)
        {
            var actual = session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = x });
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (name, value) in expected)
            {
                Assert.Equal(ScalarType.Float32, actual[name].dtype);
                Assert.Equal(value.data<float>().ToArray(), actual[name].data<float>().ToArray());
            }
        }
        var other = x.narrow(0, 0, 2);
        Assert.Equal(session.Run(new Dictionary<string, Tensor> { ["x"] = other })["Relu_2_out0"].data<float>().ToArray(),
            session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = other }, new[] { "Relu_2_out0" })["Relu_2_out0"].data<float>().ToArray());
    }

    [Fact]
    public void OutputsWrittenInPlaceAreFreshTensorsEachCall()
    {
        var (w, b, x) = Draws();
        using var session = OnnxSession.FromModel(Linear(DT.Float, w, b), Cpu);
        var first = session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = x })["Neg_3_out0"];
        var second = session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = x * 2 })["Neg_3_out0"];
        // A later call must not overwrite what an earlier one returned.
        Assert.Equal((-x).data<float>().ToArray(), first.data<float>().ToArray());
        Assert.Equal((-x * 2).data<float>().ToArray(), second.data<float>().ToArray());
    }

    [Fact]
    public void Float16ModelTakesAndGivesFloat32WithinHalfPrecision()
    {
        var (w, b, x) = Draws();
        using var session = OnnxSession.FromModel(Linear(DT.Float16, w, b), Cpu);
        Assert.All(session.Inputs.Concat(session.Outputs), s => Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, s.ElementType));
        // float32 reference with the same half-rounded weights, so the difference is the fp16 arithmetic and input rounding only.
        var reference = nn.functional.relu(x.matmul(w.half().@float()) + b.half().@float());
        foreach (var result in new[] { session.Run(new Dictionary<string, Tensor> { ["x"] = x }), session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = x }),
                     session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = x }) })
        {
            var y = result["Relu_2_out0"];
            Assert.Equal(ScalarType.Float32, y.dtype);
            Assert.Equal(reference.shape, y.shape);
            double error = (y - reference).abs().max().item<float>();
            Assert.True(error < 2e-2, $"fp16 model differs from the float32 reference by {error}");
            Assert.True(error > 0, "the fp16 path should round; an exact match means the model ran in float32");
            Assert.Equal((-x.half()).@float().data<float>().ToArray(), result["Neg_3_out0"].data<float>().ToArray());
        }
    }

    [Fact]
    public void MissingInputAndUnknownOutputAreNamed()
    {
        var (w, b, _) = Draws();
        using var session = OnnxSession.FromModel(Linear(DT.Float, w, b), Cpu);
        var missing = Assert.Throws<ArgumentException>(() => session.RunOnDevice(new Dictionary<string, Tensor>()));
        Assert.Contains("needs input 'x'", missing.Message);
        var unknown = Assert.Throws<ArgumentException>(() => session.RunOnDevice(new Dictionary<string, Tensor> { ["x"] = zeros(1, 6) }, new[] { "nope" }));
        Assert.Contains("no output 'nope'", unknown.Message);
    }
}
