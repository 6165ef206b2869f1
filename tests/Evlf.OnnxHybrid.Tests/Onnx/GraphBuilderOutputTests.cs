using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Graph outputs: renaming or routing through Identity, inferred or declared shapes, shape errors caught when the graph is written.</summary>
public class GraphBuilderOutputTests
{
    [Fact]
    public void OutputsAreRenamedOrRoutedThroughIdentity()
    {
        var g = new GraphBuilder("outs");
        var x = g.Input("x", ElementType.Float, "batch", 3);
        var y = g.Relu(x);
        var z = g.Mul(y, 2.0);
        g.Output("relu", y);        // intermediate, consumed later: renamed everywhere
        g.Output("double", z);
        g.Output("same", x);        // a graph input: Identity
        g.Output("double_again", z); // exported twice: Identity for both
        var model = g.Build();
        Assert.Equal(new[] { "relu", "double", "same", "double_again" }, model.Graph.Output.Select(o => o.Name));
        Assert.Contains(model.Graph.Node, n => n.OpType == "Relu" && n.Output[0] == "relu");
        Assert.Contains(model.Graph.Node, n => n.OpType == "Mul" && n.Input[0] == "relu");

        using var session = GraphRun.Session(model);
        using var input = tensor(new float[] { -1, 2, 3, -4, 5, 6 }).reshape(2, 3);
        var outs = GraphRun.Run(session, ("x", input));
        GraphRun.AssertClose(nn.functional.relu(input), outs[0]);
        GraphRun.AssertClose(nn.functional.relu(input) * 2, outs[1]);
        GraphRun.AssertClose(input, outs[2]);
        GraphRun.AssertClose(nn.functional.relu(input) * 2, outs[3]);
    }

    [Fact]
    public void OutputShapesAreInferredSymbolicOrDeclared()
    {
        var g = new GraphBuilder("shapes");
        var x = g.Input("z_img", ElementType.Float, "batch", 4, 8, 8);
        var tokens = g.Transpose(g.Flatten(x, 2), 0, 2, 1);
        Assert.Equal(new Dim[] { "batch", 64, 4 }, g.ShapeOf(tokens));
        var h = g.Linear("proj", tokens, 4, 16);
        g.Output("tokens", h);
        g.Output("pooled", g.GlobalAvgPool(x), "batch", 4, 1, 1);
        Assert.Throws<ArgumentException>(() => g.Output("bad", x, "batch", 5, 8, 8));
        Assert.Throws<ArgumentException>(() => g.Output("bad", x, "batch", 4));
        var model = g.Build();
        var dims = model.Graph.Output[0].Type.TensorType.Shape.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Equal(new long[] { 64, 16 }, dims.Skip(1).Select(d => d.DimValue));
        Assert.Equal(1, model.Graph.Output[0].Type.TensorType.ElemType);

        using var session = GraphRun.Session(model);
        foreach (int batch in new[] { 1, 3 })
        {
            using var z = randn(batch, 4, 8, 8);
            var outs = GraphRun.Run(session, ("z_img", z));
            Assert.Equal(new long[] { batch, 64, 16 }, outs[0].shape);
            Assert.Equal(new long[] { batch, 4, 1, 1 }, outs[1].shape);
        }
    }

    [Fact]
    public void ShapeErrorsSurfaceWhenTheGraphIsWritten()
    {
        var g = new GraphBuilder("errors");
        var x = g.Input("x", ElementType.Float, "batch", 5, 6);
        var e = Assert.Throws<ArgumentException>(() => g.Linear("proj", x, 7, 4));
        Assert.Contains("proj", e.Message);
        Assert.Throws<ArgumentException>(() => g.Add(x, g.Constant(new float[4], 4)));
        Assert.Throws<ArgumentException>(() => g.Chunk(x, 4, -1));
        Assert.Throws<ArgumentException>(() => g.Reshape(x, 0, 7, -2));
        Assert.Throws<ArgumentException>(() => g.Add(x, g.Cast(x, ElementType.Int64)));
        Assert.Throws<ArgumentException>(() => g.Conv2d("conv", x, 5, 4, 3));
        Assert.Throws<ArgumentException>(() => new GraphBuilder("other").Relu(x));
        Assert.Throws<InvalidOperationException>(() => g.Build());
    }
}
