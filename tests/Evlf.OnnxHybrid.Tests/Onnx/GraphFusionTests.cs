using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Fused layers give the same outputs and gradients as the elementary ops they replace.</summary>
public class GraphFusionTests
{
    static OnnxModel Graph(string label) => label switch
    {
        "unet" => new Fixture("unet").Load(),
        "vae_decoder" => new Fixture("vae_decoder").Load(),
        "dit" => new Fixture("dit").Load(),
        "dit_op13" => new Fixture("dit_op13").Load(),
        "builder_dit" => ClassDit.Build(new ClassDitConfig(Hidden: 16, Depth: 2, Heads: 2), 1),
        _ => TextUNet.Build(new TextUNetConfig(Channels: new[] { 8, 16 }, Heads: 2, Groups: 4, ContextDim: 12, ContextLength: 3, TimeEmbeddingDim: 16), 1),
    };

    [Theory]
    [InlineData("unet", 8, 0, 8, 1)]             // torch export
    [InlineData("vae_decoder", 9, 0, 9, 0)]      // torch export
    [InlineData("builder_unet", 20, 7, 20, 10)]  // GraphBuilder
    [InlineData("dit", 2, 2, 0, 4)]              // torch export, tanh GELU with x·(x·x), Linear as MatMul(x, Wᵀ) + b
    [InlineData("dit_op13", 2, 2, 0, 4)]         // torch export at opset 13, tanh GELU with Pow(x, 3)
    [InlineData("builder_dit", 2, 2, 0, 10)]     // GraphBuilder, tanh GELU, Linear as MatMul(x, Transpose(W)) + b
    public void FusedAndElementaryAgree(string label, int minSilu, int minGelu, int minGroupNorm, int minLinear)
    {
        var model = Graph(label);
        var fused = GraphFusion.Apply(model.Graph);
        int Count(string op) => fused.Count(n => n.Domain == GraphFusion.Domain && n.OpType == op);
        Assert.True(Count("Silu") >= minSilu, $"{label}: {Count("Silu")} SiLU fused");
        Assert.True(Count("Gelu") >= minGelu, $"{label}: {Count("Gelu")} GELU fused");
        Assert.True(Count("GroupNorm") >= minGroupNorm, $"{label}: {Count("GroupNorm")} GroupNorm fused");
        Assert.True(Count("Linear") >= minLinear, $"{label}: {Count("Linear")} Linear fused");

        using var scope = NewDisposeScope();
        var inputs = RandomInputs.For(model, seed: 2, batch: 2);
        using var a = OnnxTorchModule.FromModel(model, new ImportOptions(Fuse: true));
        using var b = OnnxTorchModule.FromModel(model, new ImportOptions(Fuse: false));
        Assert.True(a.RuntimeNodeCount < b.RuntimeNodeCount);
        var ya = a.forward(inputs).Values.First();
        var yb = b.forward(inputs).Values.First();
        Assert.True((ya - yb).abs().max().item<float>() < 1e-5, $"{label}: outputs differ");
        ya.pow(2).sum().backward();
        yb.pow(2).sum().backward();
        var gb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        double scale = a.named_parameters().Where(p => p.parameter.grad is not null).Max(p => p.parameter.grad!.abs().max().item<float>());
        foreach (var (name, p) in a.named_parameters())
        {
            if (p.grad is null) continue;
            double diff = (p.grad - gb[name]!).abs().max().item<float>();
            Assert.True(diff <= 1e-4 * scale, $"{label}: gradient of {name} differs by {diff:E2} (largest gradient {scale:E2})");
        }
    }
}
