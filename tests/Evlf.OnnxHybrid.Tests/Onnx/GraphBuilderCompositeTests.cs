using Evlf.OnnxHybrid.Onnx;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>
/// A miniature of EVLF's CrossAttentionFusion (docs/PIPELINES.md §2): conv_in → tokens + learned pos_embed,
/// text projection, KV = [image tokens; text tokens] computed once, 2 post-norm layers of cross-attention
/// and a ReLU FFN with dropout, conv_out. Built, saved, loaded, run at two batch sizes, and compared with
/// the same network written with TorchSharp functional ops on the graph's weights.
/// </summary>
public class GraphBuilderCompositeTests
{
    const int D = 16, Heads = 4, Ffn = 32, TextDim = 12, TextLen = 5, Side = 4, Layers = 2;

    static GraphBuilder BuildFusion(int seed)
    {
        var g = new GraphBuilder("fusion", seed);
        var zImg = g.Input("z_img", ElementType.Float, "batch", 4, Side, Side);
        var eText = g.Input("e_text", ElementType.Float, "batch", TextLen, TextDim);

        var h = g.Conv2d("conv_in", zImg, 4, D, 1);
        var x = g.Transpose(g.Flatten(h, 2), 0, 2, 1);                                   // (N, HW, D)
        x = g.Add(x, g.Parameter("pos_embed", new long[] { 1, Side * Side, D }, ParameterInit.Normal(1)));
        var text = g.Linear("text_proj", eText, TextDim, D);
        var kv = g.Concat(1, x, text);                                                    // computed once
        for (int i = 0; i < Layers; i++)
        {
            using (g.Scope($"layers.{i}"))
            {
                var attended = g.MultiheadAttention("attn", x, kv, kv, D, Heads, dropout: 0.1);
                x = g.LayerNorm("norm1", g.Add(x, attended), D);
                var f = g.Dropout(g.Relu(g.Linear("ffn.0", x, D, Ffn)), 0.1);
                f = g.Dropout(g.Linear("ffn.3", f, Ffn, D), 0.1);
                x = g.LayerNorm("norm2", g.Add(x, f), D);
            }
        }
        var grid = g.Reshape(g.Transpose(x, 0, 2, 1), 0, D, Side, Side);
        g.Output("z_fused", g.Conv2d("conv_out", grid, D, 4, 1));
        return g;
    }

    static Tensor Reference(Func<string, Tensor> p, Tensor zImg, Tensor eText)
    {
        long n = zImg.shape[0];
        var x = F.conv2d(zImg, p("conv_in.weight"), p("conv_in.bias")).flatten(2).transpose(1, 2) + p("pos_embed");
        var kv = cat(new[] { x, F.linear(eText, p("text_proj.weight"), p("text_proj.bias")) }, 1);
        for (int i = 0; i < Layers; i++)
        {
            string l = $"layers.{i}.";
            var w = p(l + "attn.in_proj_weight").chunk(3);
            var b = p(l + "attn.in_proj_bias").chunk(3);
            Tensor Heads_(Tensor t) => t.view(n, t.shape[1], Heads, D / Heads).transpose(1, 2);
            var q = Heads_(F.linear(x, w[0], b[0]));
            var k = Heads_(F.linear(kv, w[1], b[1]));
            var v = Heads_(F.linear(kv, w[2], b[2]));
            var attn = matmul(F.softmax(matmul(q, k.transpose(-2, -1)) / Math.Sqrt(D / Heads), -1), v).transpose(1, 2).reshape(n, -1, D);
            attn = F.linear(attn, p(l + "attn.out_proj.weight"), p(l + "attn.out_proj.bias"));
            x = F.layer_norm(x + attn, new long[] { D }, p(l + "norm1.weight"), p(l + "norm1.bias"));
            var f = F.linear(F.relu(F.linear(x, p(l + "ffn.0.weight"), p(l + "ffn.0.bias"))), p(l + "ffn.3.weight"), p(l + "ffn.3.bias"));
            x = F.layer_norm(x + f, new long[] { D }, p(l + "norm2.weight"), p(l + "norm2.bias"));
        }
        var grid = x.transpose(1, 2).reshape(n, D, Side, Side);
        return F.conv2d(grid, p("conv_out.weight"), p("conv_out.bias"));
    }

    [Fact]
    public void FusionNetworkSavesLoadsAndRunsAtTwoBatchSizes()
    {
        var g = BuildFusion(seed: 0);
        Assert.Equal(
            new[] { "conv_in.weight", "conv_in.bias", "pos_embed", "text_proj.weight", "text_proj.bias" },
            g.Parameters.Take(5).Select(p => p.Name));
        Assert.Contains(g.Parameters, p => p.Name == "layers.1.attn.in_proj_weight" && p.Shape.SequenceEqual(new long[] { 3 * D, D }));
        Assert.Contains(g.Parameters, p => p.Name == "layers.1.ffn.3.bias");
        Assert.Equal(5 + Layers * 12 + 2, g.Parameters.Count);   // per layer: attn 4, norm1 2, ffn 4, norm2 2

        string dir = Path.Combine(Path.GetTempPath(), "evlf-graphbuilder-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "fusion.onnx");
            g.Build().Save(path);
            var loaded = OnnxModel.Load(path);
            Assert.Equal(g.Parameters.Select(p => p.Name), loaded.Graph.Initializer.Select(t => t.Name));
            foreach (var p in g.Parameters)
                Assert.Equal(g.GetParameter(p.Name), OnnxTensor.ToFloats(loaded.Graph.Initializer.Single(t => t.Name == p.Name)));
            Assert.Equal(3, loaded.Graph.Node.Count(n => n.OpType == "Dropout") / Layers);

            using var session = new InferenceSession(path);
            Assert.Equal(new[] { "z_img", "e_text" }, session.InputMetadata.Keys);
            Assert.Equal(-1, session.InputMetadata["z_img"].Dimensions[0]);
            Tensor P(string name) => GraphRun.Param(loaded, name);
            var generator = new Generator(3);
            foreach (int batch in new[] { 2, 3 })
            {
                var zImg = randn(new long[] { batch, 4, Side, Side }, generator: generator);
                var eText = randn(new long[] { batch, TextLen, TextDim }, generator: generator);
                var fused = GraphRun.Run(session, ("z_img", zImg), ("e_text", eText))[0];
                Assert.Equal(new long[] { batch, 4, Side, Side }, fused.shape);
                GraphRun.AssertClose(Reference(P, zImg, eText), fused, 1e-4);
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RowsOfABatchAreIndependent()
    {
        // With Dropout as identity and no batch statistics, sample i alone equals row i of a batch.
        using var session = GraphRun.Session(BuildFusion(seed: 1).Build());
        var generator = new Generator(5);
        var zImg = randn(new long[] { 3, 4, Side, Side }, generator: generator);
        var eText = randn(new long[] { 3, TextLen, TextDim }, generator: generator);
        var all = GraphRun.Run(session, ("z_img", zImg), ("e_text", eText))[0];
        for (int i = 0; i < 3; i++)
        {
            var one = GraphRun.Run(session, ("z_img", zImg[i..(i + 1)]), ("e_text", eText[i..(i + 1)]))[0];
            GraphRun.AssertClose(all[i..(i + 1)], one);
        }
    }
}
