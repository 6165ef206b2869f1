using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// Benchmark baseline only: the EVLF fusion module's forward written directly with TorchSharp calls on the
/// weights of a fusion.onnx (eval mode, post-norm, KV computed once). It exists to measure what the
/// importer's graph execution costs over calling the same ops by hand; the network itself is defined once,
/// in <see cref="CrossAttentionFusion"/>.
/// </summary>
public sealed class DirectFusionBaseline
{
    readonly Dictionary<string, Tensor> w;
    readonly FusionConfig c;

    public DirectFusionBaseline(OnnxModel model, FusionConfig config)
    {
        c = config;
        w = model.Graph.Initializer.ToDictionary(t => t.Name, t => OnnxTensor.ToTorch(t).DetachFromDisposeScope());
    }

    public Tensor Forward(Tensor z, Tensor text)
    {
        long n = z.shape[0];
        int d = c.Width, h = c.Heads, hd = d / h;
        var x = F.conv2d(z, w["latent_proj.weight"], w["latent_proj.bias"]).flatten(2).transpose(1, 2) + w["pos_embed"];
        var kv = cat(new[] { x, F.linear(text, w["text_proj.weight"], w["text_proj.bias"]) }, 1);
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"layers.{i}.";
            var inW = w[p + "attn.in_proj_weight"].chunk(3);
            var inB = w[p + "attn.in_proj_bias"].chunk(3);
            Tensor Heads(Tensor t) => t.view(n, -1, h, hd).transpose(1, 2);
            var q = Heads(F.linear(x, inW[0], inB[0]));
            var k = Heads(F.linear(kv, inW[1], inB[1]));
            var v = Heads(F.linear(kv, inW[2], inB[2]));
            var a = matmul(softmax(matmul(q, k.transpose(-2, -1)) / Math.Sqrt(hd), -1), v).transpose(1, 2).reshape(n, -1, d);
            a = F.linear(a, w[p + "attn.out_proj.weight"], w[p + "attn.out_proj.bias"]);
            x = F.layer_norm(x + a, new long[] { d }, w[p + "norm1.weight"], w[p + "norm1.bias"]);
            var f = F.linear(F.relu(F.linear(x, w[p + "ffn.0.weight"], w[p + "ffn.0.bias"])), w[p + "ffn.3.weight"], w[p + "ffn.3.bias"]);
            x = F.layer_norm(x + f, new long[] { d }, w[p + "norm2.weight"], w[p + "norm2.bias"]);
        }
        var grid = x.transpose(1, 2).reshape(n, d, c.LatentSize, c.LatentSize);
        return F.conv2d(grid, w["out_proj.weight"], w["out_proj.bias"]);
    }
}
