using Evlf.OnnxHybrid.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Runs built graphs in ONNX Runtime and compares with TorchSharp references.</summary>
static class GraphRun
{
    public static InferenceSession Session(OnnxModel model) => new(model.Proto.ToByteArray());

    /// <summary>Runs the session; outputs in the graph's output order, as CPU tensors.</summary>
    public static Tensor[] Run(InferenceSession session, params (string Name, Tensor Value)[] inputs)
    {
        var feeds = inputs.Select(i => ToOrt(i.Name, i.Value)).ToList();
        using var results = session.Run(feeds);
        return results.Select(FromOrt).ToArray();
    }

    static NamedOnnxValue ToOrt(string name, Tensor t)
    {
        var dims = t.shape.Select(d => (int)d).ToArray();
        using var c = t.contiguous();
        return t.dtype switch
        {
            ScalarType.Float32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(c.data<float>().ToArray(), dims)),
            ScalarType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(c.data<long>().ToArray(), dims)),
            ScalarType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(c.data<int>().ToArray(), dims)),
            _ => throw new NotSupportedException(t.dtype.ToString()),
        };
    }

    static Tensor FromOrt(DisposableNamedOnnxValue v)
    {
        switch (v.Value)
        {
            case DenseTensor<float> f:
                return tensor(f.Buffer.ToArray()).reshape(f.Dimensions.ToArray().Select(d => (long)d).ToArray());
            case DenseTensor<long> l:
                return tensor(l.Buffer.ToArray()).reshape(l.Dimensions.ToArray().Select(d => (long)d).ToArray());
            default:
                throw new NotSupportedException(v.Value.GetType().Name);
        }
    }

    /// <summary>An initializer of the built model as a tensor (what ORT uses, read back independently).</summary>
    public static Tensor Param(OnnxModel model, string name) =>
        OnnxTensor.ToTorch(model.Graph.Initializer.Single(t => t.Name == name));

    public static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(diff <= tolerance, $"max abs diff {diff:E3} > {tolerance:E1}");
    }

    /// <summary>Runs a one-input model at batch 1 and 3 in one session and compares each with the reference.</summary>
    public static void CheckBatches(OnnxModel model, Func<int, Tensor> makeInput, Func<Tensor, Tensor> reference, double tolerance = 1e-5, string inputName = "x")
    {
        using var session = Session(model);
        foreach (int batch in new[] { 1, 3 })
        {
            using var scope = NewDisposeScope();
            var x = makeInput(batch);
            var actual = Run(session, (inputName, x))[0];
            AssertClose(reference(x), actual, tolerance);
        }
    }
}
