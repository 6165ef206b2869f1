using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Normalisation layers: GroupNorm (as InstanceNormalization), LayerNorm, BatchNorm in eval mode.</summary>
public class GraphBuilderNormTests : OneLayerGraphTest
{
    [Theory]
    [InlineData(3, 6, true, 4)]
    [InlineData(2, 6, false, 4)]
    [InlineData(6, 6, true, 4)]
    [InlineData(2, 4, true, 3)]
    public void GroupNormMatchesFunctionalGroupNorm(int groups, int channels, bool affine, int rank)
    {
        var g = new GraphBuilder("gn");
        var spatial = rank == 4 ? new Dim[] { 5, 4 } : new Dim[] { 7 };
        var x = g.Input("x", ElementType.Float, new Dim[] { "batch", channels }.Concat(spatial).ToArray());
        g.Output("y", g.GroupNorm("norm", x, groups, channels, eps: 1e-5, affine: affine));
        Assert.Equal(affine ? 2 : 0, g.Parameters.Count);
        Randomize(g);
        var model = g.Build();
        Assert.Contains(model.Graph.Node, n => n.OpType == "InstanceNormalization");
        Tensor? w = affine ? GraphRun.Param(model, "norm.weight") : null;
        Tensor? b = affine ? GraphRun.Param(model, "norm.bias") : null;
        GraphRun.CheckBatches(model,
            n => Randn(new long[] { n, channels }.Concat(spatial.Select(d => d.Size!.Value)).ToArray()) * 2 + 0.5,
            x => F.group_norm(x, groups, w, b, 1e-5));
    }

    [Theory]
    [InlineData(true, 1e-5)]
    [InlineData(false, 1e-6)]
    public void LayerNormMatchesFunctionalLayerNorm(bool affine, double eps)
    {
        var g = new GraphBuilder("ln");
        var x = g.Input("x", ElementType.Float, "batch", 5, 8);
        g.Output("y", g.LayerNorm("norm", x, 8, eps, affine));
        Randomize(g);
        var model = g.Build();
        Assert.Equal(affine ? 2 : 0, model.Graph.Initializer.Count);
        Tensor? w = affine ? GraphRun.Param(model, "norm.weight") : null;
        Tensor? b = affine ? GraphRun.Param(model, "norm.bias") : null;
        GraphRun.CheckBatches(model, n => Randn(n, 5, 8) * 3 - 1, x => F.layer_norm(x, new long[] { 8 }, w, b, eps));
    }

    [Fact]
    public void BatchNormMatchesFunctionalBatchNormInEvalMode()
    {
        var g = new GraphBuilder("bn");
        var x = g.Input("x", ElementType.Float, "batch", 3, 4, 4);
        g.Output("y", g.BatchNorm2d("bn", x, 3));
        Randomize(g);
        using (var positive = rand(new long[] { 3 }, generator: InputGenerator) + 0.5) g.SetParameter("bn.running_var", positive);
        var model = g.Build();
        var p = (string n) => GraphRun.Param(model, "bn." + n);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 4, 4),
            x => F.batch_norm(x, p("running_mean"), p("running_var"), p("weight"), p("bias"), training: false, eps: 1e-5));
    }
}
