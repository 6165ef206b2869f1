using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>
/// A layer as a one-layer graph in ONNX Runtime vs TorchSharp's functional op on the same weights, read back from the
/// graph's initializers; batch 1 and 3 in one session (GraphRun.CheckBatches).
/// </summary>
public abstract class OneLayerGraphTest
{
    // xunit makes one instance per test: every test draws the same inputs on every run.
    protected Generator InputGenerator { get; } = new(20240601);

    protected Tensor Randn(params long[] shape) => randn(shape, generator: InputGenerator);

    protected static OnnxModel OneLayer(Func<GraphBuilder, Value, Value> layer, params Dim[] dims) =>
        OneLayer(layer, ElementType.Float, dims);

    protected static OnnxModel OneLayer(Func<GraphBuilder, Value, Value> layer, ElementType type, params Dim[] dims)
    {
        var g = new GraphBuilder("layer", seed: 3);
        var x = g.Input("x", type, new Dim[] { "batch" }.Concat(dims).ToArray());
        g.Output("y", layer(g, x));
        return g.Build();
    }

    /// <summary>Replaces every parameter with N(0,1)-ish values so that ones/zeros defaults cannot hide a wrong Mul/Add.</summary>
    protected void Randomize(GraphBuilder g)
    {
        // The scalar is held for the whole call: an implicit one can be finalised while libtorch still reads it, which once
        // failed this helper with "Unknown scalar type".
        using var half = 0.5.ToScalar();
        foreach (var p in g.Parameters)
        {
            using var n = Randn(p.Shape.ToArray());
            using var r = n.mul(half);
            g.SetParameter(p.Name, r);
        }
    }
}
