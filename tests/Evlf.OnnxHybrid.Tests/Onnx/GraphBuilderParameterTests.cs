using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Parameters vs constants: what becomes an initializer, frozen buffers, reading, setting and loading parameters by name.</summary>
public class GraphBuilderParameterTests
{
    [Fact]
    public void ConstantsAreConstantNodesNeverInitializers()
    {
        var g = new GraphBuilder("consts");
        var x = g.Input("x", ElementType.Float, "batch", 3, 4);
        var y = g.LayerNorm("norm", x, 4, eps: 1e-6, affine: false);
        y = g.Add(g.Reshape(y, 0, -1), g.Constant(new float[12], 12));
        g.Output("y", y);
        var model = g.Build();
        Assert.Empty(g.Parameters);
        Assert.Empty(model.Graph.Initializer);
        Assert.Contains(model.Graph.Node, n => n.OpType == "Constant");
        Assert.All(model.Graph.Node.Where(n => n.OpType == "Constant"), n => Assert.StartsWith("/", n.Output[0]));
    }

    [Fact]
    public void FrozenBuffersAreListedInMetadata()
    {
        var g = new GraphBuilder("bn");
        var x = g.Input("x", ElementType.Float, "batch", 3, 2, 2);
        using (g.Scope("features"))
            x = g.BatchNorm2d("0", x, 3);
        g.Parameter("pos_table", new long[] { 1, 3 }, ParameterInit.Constant(new float[] { 1, 2, 3 }), trainable: false);
        g.Output("y", x);
        var model = g.Build();
        var frozen = model.Proto.MetadataProps.Single(p => p.Key == GraphBuilder.FrozenMetadataKey).Value.Split(',');
        Assert.Equal(new[] { "features.0.running_mean", "features.0.running_var", "pos_table" }, frozen);
        Assert.True(g.Parameters.Single(p => p.Name == "features.0.weight").Trainable);
        Assert.False(g.Parameters.Single(p => p.Name == "pos_table").Trainable);
    }

    [Fact]
    public void ParametersCanBeReadSetAndLoadedByName()
    {
        var g = new GraphBuilder("params");
        var x = g.Input("x", ElementType.Float, "batch", 2);
        var y = g.Linear("fc", x, 2, 2);
        g.Output("y", y);

        g.SetParameter("fc.weight", new float[] { 1, 2, 3, 4 });
        Assert.Equal(new float[] { 1, 2, 3, 4 }, g.GetParameter("fc.weight"));
        using (var b = tensor(new float[] { 0.5f, -0.5f }))
            g.SetParameter("fc.bias", b);
        Assert.Throws<ArgumentException>(() => g.SetParameter("fc.weight", new float[] { 1, 2, 3 }));
        Assert.Throws<ArgumentException>(() => g.SetParameter("fc.nothing", new float[] { 1 }));
        using (var wrong = zeros(4))
            Assert.Throws<ArgumentException>(() => g.SetParameter("fc.weight", wrong));

        var model = g.Build();
        using (var session = GraphRun.Session(model))
        using (var input = tensor(new float[] { 1, 1 }).reshape(1, 2))
            GraphRun.AssertClose(tensor(new float[] { 3.5f, 6.5f }).reshape(1, 2), GraphRun.Run(session, ("x", input))[0]);

        // A fresh builder of the same network, other seed: loading restores the trained values.
        var g2 = new GraphBuilder("params", seed: 9);
        var x2 = g2.Input("x", ElementType.Float, "batch", 2);
        g2.Output("y", g2.Linear("fc", x2, 2, 2));
        Assert.NotEqual(g.GetParameter("fc.weight"), g2.GetParameter("fc.weight"));
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, g2.LoadParameters(model));
        Assert.Equal(g.GetParameter("fc.weight"), g2.GetParameter("fc.weight"));
        Assert.Equal(g.GetParameter("fc.bias"), g2.GetParameter("fc.bias"));

        var g3 = new GraphBuilder("params");
        var x3 = g3.Input("x", ElementType.Float, "batch", 2);
        g3.Output("y", g3.Linear("fc", x3, 2, 2, bias: false));
        g3.Parameter("extra", new long[] { 3 }, ParameterInit.Zeros);
        Assert.Throws<ArgumentException>(() => g3.LoadParameters(model));
        Assert.Equal(new[] { "fc.weight" }, g3.LoadParameters(model, strict: false));
    }
}
