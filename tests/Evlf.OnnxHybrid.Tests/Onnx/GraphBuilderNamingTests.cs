using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Scopes and names: parameters named like a PyTorch state dict, node names with the module path, name clashes.</summary>
public class GraphBuilderNamingTests
{
    [Fact]
    public void ScopesNameParametersLikeAStateDict()
    {
        var g = new GraphBuilder("fusion");
        var x = g.Input("x", ElementType.Float, "batch", 5, 8);
        using (g.Scope("layers.0"))
        {
            x = g.Linear("attn.out_proj", x, 8, 8);
            using (g.Scope("ffn"))
                x = g.Linear("0", x, 8, 4, bias: false);
            Assert.Equal("layers.0", g.CurrentScope);
        }
        x = g.LayerNorm("norm", x, 4);
        Assert.Equal("", g.CurrentScope);
        g.Output("y", x);

        Assert.Equal(
            new[] { "layers.0.attn.out_proj.weight", "layers.0.attn.out_proj.bias", "layers.0.ffn.0.weight", "norm.weight", "norm.bias" },
            g.Parameters.Select(p => p.Name));
        Assert.Equal(new long[] { 8, 8 }, g.Parameters[0].Shape);
        Assert.Equal(new long[] { 4, 8 }, g.Parameters[2].Shape);
        Assert.Equal(8 * 8 + 8 + 4 * 8 + 4 + 4, g.ParameterCount);

        var model = g.Build();
        Assert.Equal(g.Parameters.Select(p => p.Name), model.Graph.Initializer.Select(t => t.Name));
        // Nodes carry the module path, like torch.onnx.export's names.
        Assert.Contains(model.Graph.Node, n => n.Name.StartsWith("/layers.0/attn.out_proj/MatMul_"));
        Assert.Contains(model.Graph.Node, n => n.Name.StartsWith("/layers.0/ffn/0/"));
    }

    [Fact]
    public void DuplicateParameterNamesAreAnError()
    {
        var g = new GraphBuilder("dup");
        var x = g.Input("x", ElementType.Float, "batch", 4);
        using (g.Scope("block"))
            g.Linear("proj", x, 4, 4);
        var e = Assert.Throws<ArgumentException>(() =>
        {
            using (g.Scope("block")) g.Linear("proj", x, 4, 4);
        });
        Assert.Contains("block.proj.weight", e.Message);
        Assert.Throws<ArgumentException>(() => g.Parameter("block.proj.bias", new long[] { 4 }, ParameterInit.Zeros));
        // Same local name in another scope is fine.
        using (g.Scope("other")) g.Linear("proj", x, 4, 4);
        Assert.Equal(new[] { "block.proj.weight", "block.proj.bias", "other.proj.weight", "other.proj.bias" }, g.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void InputNamesMustBeUniqueAndNotReserved()
    {
        var g = new GraphBuilder("names");
        g.Input("x", ElementType.Float, 2);
        g.Parameter("w", new long[] { 2 }, ParameterInit.Ones);
        Assert.Throws<ArgumentException>(() => g.Input("x", ElementType.Float, 2));
        Assert.Throws<ArgumentException>(() => g.Input("w", ElementType.Float, 2));
        Assert.Throws<ArgumentException>(() => g.Input("/internal", ElementType.Float, 2));
        Assert.Throws<ArgumentException>(() => g.Input("u", ElementType.Float, 2, Dim.Unknown));
    }

    [Fact]
    public void ScopesMustCloseInOrder()
    {
        var g = new GraphBuilder("scopes");
        var outer = g.Scope("a");
        var inner = g.Scope("b");
        Assert.Equal("a.b", g.CurrentScope);
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        Assert.Equal("", g.CurrentScope);
        Assert.Throws<ArgumentException>(() => g.Scope("a..b"));
        Assert.Throws<ArgumentException>(() => g.Scope("a/b"));
    }
}
