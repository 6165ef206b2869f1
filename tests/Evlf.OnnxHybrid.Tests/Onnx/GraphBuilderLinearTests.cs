using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Linear maps: Linear on rank 2 and 3, Gemm in both executors, Conv2d with stride, padding, dilation and groups.</summary>
public class GraphBuilderLinearTests : OneLayerGraphTest
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LinearMatchesFunctionalLinearOnRank2And3(bool bias)
    {
        foreach (var dims in new[] { new Dim[] { 6 }, new Dim[] { 5, 6 } })
        {
            var model = OneLayer((g, x) => g.Linear("fc", x, 6, 4, bias), dims);
            var w = GraphRun.Param(model, "fc.weight");
            Tensor? b = bias ? GraphRun.Param(model, "fc.bias") : null;
            Assert.Equal(new long[] { 4, 6 }, w.shape);
            Assert.Equal(bias ? 2 : 1, model.Graph.Initializer.Count);
            GraphRun.CheckBatches(model,
                n => Randn(new long[] { n }.Concat(dims.Select(d => d.Size!.Value)).ToArray()),
                x => F.linear(x, w, b));
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void GemmMatchesMatMulPlusBiasInBothExecutors(bool transB, bool bias)
    {
        var model = OneLayer((g, x) =>
        {
            var w = g.Parameter("w", transB ? new long[] { 4, 6 } : new long[] { 6, 4 }, ParameterInit.Normal(1));
            return g.Gemm(x, w, bias ? g.Parameter("b", new long[] { 4 }, ParameterInit.Normal(1)) : null, transB);
        }, 6);
        var w = GraphRun.Param(model, "w");
        Tensor? b = bias ? GraphRun.Param(model, "b") : null;
        GraphRun.CheckBatches(model, n => Randn(n, 6), x => (transB ? x.matmul(w.t()) : x.matmul(w)) + (b ?? zeros(4)));
        var diffs = ParityCheck.Run(model, RandomInputs.For(model, seed: 1, batch: 5));
        Assert.True(diffs.Single().MaxAbsDiff < 1e-5, $"{diffs.Single().MaxAbsDiff:E2}");
        Assert.Equal(new long[] { 5, 4 }, diffs.Single().Shape);
    }

    [Theory]
    [InlineData(4, 6, 3, 2, 1, 1, 2, true)]
    [InlineData(3, 4, 3, 1, 2, 2, 1, false)]
    [InlineData(4, 8, 1, 1, 0, 1, 1, true)]
    [InlineData(4, 4, 4, 4, 0, 1, 4, true)]
    public void Conv2dMatchesFunctionalConv2d(int inC, int outC, int k, int stride, int padding, int dilation, int groups, bool bias)
    {
        var model = OneLayer((g, x) => g.Conv2d("conv", x, inC, outC, k, stride, padding, dilation, groups, bias), inC, 9, 8);
        var w = GraphRun.Param(model, "conv.weight");
        Assert.Equal(new long[] { outC, inC / groups, k, k }, w.shape);
        Tensor? b = bias ? GraphRun.Param(model, "conv.bias") : null;
        GraphRun.CheckBatches(model, n => Randn(n, inC, 9, 8),
            x => F.conv2d(x, w, b, new long[] { stride, stride }, new long[] { padding, padding }, new long[] { dilation, dilation }, groups));
    }
}
