using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Resampling: nearest upsampling, average pooling, adaptive and global average pooling.</summary>
public class GraphBuilderPoolingTests : OneLayerGraphTest
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UpsampleNearestMatchesInterpolate(int factor)
    {
        var model = OneLayer((g, x) => g.UpsampleNearest(x, factor), 2, 3, 4);
        var resize = Assert.Single(model.Graph.Node, n => n.OpType == "Resize");
        Assert.Equal("asymmetric", resize.Attribute.Single(a => a.Name == "coordinate_transformation_mode").S.ToStringUtf8());
        GraphRun.CheckBatches(model, n => Randn(n, 2, 3, 4),
            x => F.interpolate(x, scale_factor: new double[] { factor, factor }, mode: InterpolationMode.Nearest), tolerance: 0);
    }

    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(2, 2, 0)]
    [InlineData(3, 1, 1)]
    public void AvgPool2dMatchesFunctionalAvgPool(int kernel, int stride, int padding)
    {
        var model = OneLayer((g, x) => g.AvgPool2d(x, kernel, stride, padding), 3, 7, 6);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 7, 6),
            x => F.avg_pool2d(x, new long[] { kernel, kernel }, new long[] { stride, stride }, new long[] { padding, padding }));
    }

    [Theory]
    [InlineData(4, 3)]
    [InlineData(2, 2)]
    [InlineData(1, 1)]
    [InlineData(8, 6)]
    public void AdaptiveAvgPool2dMatchesFunctional(int oh, int ow)
    {
        var model = OneLayer((g, x) => g.AdaptiveAvgPool2d(x, oh, ow), 3, 8, 6);
        GraphRun.CheckBatches(model, n => Randn(n, 3, 8, 6), x => F.adaptive_avg_pool2d(x, new long[] { oh, ow }));
    }

    [Fact]
    public void AdaptiveAvgPoolNeedsKnownDivisibleSizeButGlobalPoolDoesNot()
    {
        Assert.Throws<ArgumentException>(() => OneLayer((g, x) => g.AdaptiveAvgPool2d(x, 3, 3), 3, 8, 6));
        Assert.Throws<ArgumentException>(() => OneLayer((g, x) => g.AdaptiveAvgPool2d(x, 2, 2), 3, "h", "w"));
        var model = OneLayer((g, x) => g.AdaptiveAvgPool2d(x, 1, 1), 3, "h", "w");
        using var session = GraphRun.Session(model);
        foreach (var (h, w) in new[] { (5, 7), (2, 3) })
        {
            using var x = Randn(2, 3, h, w);
            GraphRun.AssertClose(F.adaptive_avg_pool2d(x, new long[] { 1, 1 }), GraphRun.Run(session, ("x", x))[0]);
        }
        var global = OneLayer((g, x) => g.GlobalAvgPool(x), 3, "h", "w");
        GraphRun.CheckBatches(global, n => Randn(n, 3, 4, 5), x => x.mean(new long[] { 2, 3 }, keepdim: true));
    }
}
