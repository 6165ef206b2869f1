using System.Runtime.CompilerServices;
using System.Text.Json;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Tests.Diffusion;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Fusion;

/// <summary>
/// EVLF stage A against tools/reference/fusion_reference.py: PyTorch modules written from docs/PIPELINES.md §2,
/// loaded (strictly, by name) with the initializers of the committed Fusion/Models/&lt;case&gt;/fusion.onnx and
/// projector.onnx, give the fused latents, projected embeddings, InfoNCE (Eq. 11), MSE (Eq. 9) and total
/// (Eq. 12), the gradient norm, the clipped gradients and the weights after one AdamW step, all in float64.
/// Here the importer runs the same ONNX files in float32, in eval mode (no dropout), with clean class text.
/// <para>
/// The models are <see cref="CrossAttentionFusion.Build"/> / <see cref="CrossAttentionFusion.BuildProjector"/>
/// graphs whose initializers are moved by seeded N(0, 0.05²) noise, so that no LayerNorm weight sits at 1 and
/// no bias at 0 (a swapped or ignored one shows). Rewrite them with
/// <c>EVLF_WRITE_FUSION_MODELS=1 dotnet test --filter FullyQualifiedName~FusionReferenceTests.CommittedModels</c>,
/// rebuild, then rerun the script (commands and measured differences in its docstring).
/// </para>
/// </summary>
public class FusionReferenceTests(ITestOutputHelper output)
{
    const string Script = "tools/reference/fusion_reference.py";
    const string WriteVariable = "EVLF_WRITE_FUSION_MODELS";
    static readonly FusionConfig Small = new(TextDim: 12, TextLength: 5, Width: 16, Heads: 2);

    /// <summary>Each case: the fusion config and the seeds of its two graphs (fusion: seed, projector: seed + 1).</summary>
    static readonly Dictionary<string, (FusionConfig Config, int Seed)> Fixtures = new()
    {
        // As released: post-norm, keys/values computed once; the projector's 2×2 grid is repeated to 4×4.
        ["released_s8"] = (Small, 1),
        // Both named divergences, and a 32×32 latent whose projector grid (8×8) is averaged down to 4×4.
        ["prenorm_refresh_s32"] = (Small with { LatentSize = 32, PreNorm = true, RefreshKeyValues = true }, 3),
    };

    public static IEnumerable<object[]> Cases => Fixtures.Keys.Order().Select(k => new object[] { k });

    static string ModelsRoot => Path.Combine(AppContext.BaseDirectory, "Fusion", "Models");
    static string VectorsRoot => Path.Combine(AppContext.BaseDirectory, "Fusion", "Vectors");

    static ReferenceVectors Vectors(string name) => new(VectorsRoot, name, Script);

    [Theory]
    [MemberData(nameof(Cases))]
    public void CommittedModelsAreTheBuildersGraphs(string name)
    {
        var (config, seed) = Fixtures[name];
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1") WriteModels(name, config, seed);

        AssertSameGraph(CrossAttentionFusion.Build(config, seed), OnnxModel.Load(Path.Combine(ModelsRoot, name, "fusion.onnx")));
        AssertSameGraph(CrossAttentionFusion.BuildProjector(config, seed + 1), OnnxModel.Load(Path.Combine(ModelsRoot, name, "projector.onnx")));
        var stored = JsonSerializer.Deserialize<FusionConfig>(File.ReadAllText(Path.Combine(ModelsRoot, name, "config.json")));
        Assert.Equal(config, stored);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedLatentsAndEmbeddingsMatchTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var v = Vectors(name);
        using var fusion = Load(name, "fusion");
        using var projector = Load(name, "projector");
        using var _ = no_grad();
        var (fused, projected) = Forward(fusion, projector, v);

        double fusedDiff = MaxAbsDiff(fused, v.Tensor("z_fused")), projectedDiff = MaxAbsDiff(projected, v.Tensor("embedding"));
        output.WriteLine($"{name}: max |Δ| z_fused {fusedDiff:E2}, embedding {projectedDiff:E2}");
        Assert.True(fusedDiff < 1e-5, $"z_fused differs by {fusedDiff:E2}");
        Assert.True(projectedDiff < 1e-5, $"embedding differs by {projectedDiff:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LossesMatchTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var v = Vectors(name);
        var labels = v.Tensor("labels");
        var targets = v.Tensor("class_vectors").index_select(0, labels).to(ScalarType.Float64);
        var logitScale = tensor(v.Double("logit_scale"), dtype: ScalarType.Float64);
        var z = v.Tensor("z_img").to(ScalarType.Float64);

        // The loss formulas alone, on the reference's own float64 outputs: only rounding separates them.
        double nce = FusionLosses.InfoNce(v.Tensor("embedding"), targets, labels, logitScale).item<double>();
        double mse = FusionLosses.Mse(v.Tensor("z_fused"), z).item<double>();
        output.WriteLine($"{name}: float64 InfoNCE |Δ| {Math.Abs(nce - v.Double("info_nce")):E2}, MSE |Δ| {Math.Abs(mse - v.Double("mse")):E2}");
        Assert.Equal(v.Double("info_nce"), nce, 1e-10);
        Assert.Equal(v.Double("mse"), mse, 1e-10);

        // End to end: the importer's float32 outputs, τ as FusionTrainer holds it (a float32 parameter).
        using var fusion = Load(name, "fusion");
        using var projector = Load(name, "projector");
        using var _ = no_grad();
        var (fused, projected) = Forward(fusion, projector, v);
        var o = new FusionTrainingOptions();
        double nce32 = FusionLosses.InfoNce(projected, targets.to(ScalarType.Float32), labels, LogitScale(o)).item<float>();
        double mse32 = FusionLosses.Mse(fused, z.to(ScalarType.Float32)).item<float>();
        output.WriteLine($"{name}: InfoNCE {nce32:R} vs {v.Double("info_nce"):R} (|Δ| {Math.Abs(nce32 - v.Double("info_nce")):E2}), " +
                         $"MSE {mse32:R} vs {v.Double("mse"):R} (|Δ| {Math.Abs(mse32 - v.Double("mse")):E2})");
        Assert.Equal(v.Double("info_nce"), nce32, 1e-5);
        Assert.Equal(v.Double("mse"), mse32, 1e-5);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneClippedAdamWStepMatchesTheReference(string name)
    {
        using var scope = NewDisposeScope();
        var v = Vectors(name);
        var o = new FusionTrainingOptions();
        // The reference was made with FusionTrainer's defaults; if those change, regenerate it.
        Assert.Equal(v.Double("lambda1"), o.Lambda1);
        Assert.Equal(v.Double("lr_fusion"), o.FusionLearningRate);
        Assert.Equal(v.Double("lr_projector"), o.ProjectorLearningRate);
        Assert.Equal(v.Double("weight_decay"), o.WeightDecay);
        Assert.Equal(v.Double("clip_grad_norm"), o.ClipGradNorm);
        Assert.Equal(v.Double("temperature"), o.Temperature);

        using var fusion = Load(name, "fusion");
        using var projector = Load(name, "projector");
        var modules = new Dictionary<string, OnnxTorchModule> { ["fusion"] = fusion, ["projector"] = projector };
        var labels = v.Tensor("labels");
        var targets = v.Tensor("class_vectors").index_select(0, labels);
        var z = v.Tensor("z_img");
        double lambda2 = v.Double("lambda2");
        var logitScale = LogitScale(o);
        using var optimizer = FusionTrainer.CreateOptimizer(fusion, projector, logitScale, o);
        var (loss, gradNorm) = TrainingLoop.Step(optimizer, () =>
        {
            var (fused, projected) = Forward(fusion, projector, v);
            return o.Lambda1 * FusionLosses.InfoNce(projected, targets, labels, logitScale) + lambda2 * FusionLosses.Mse(fused, z);
        }, TrainingLoop.ClippedParameters(modules.Values), o.ClipGradNorm);

        double lossDiff = Math.Abs(loss.item<float>() - v.Double("loss"));
        double normRel = Math.Abs(gradNorm - v.Double("grad_norm")) / v.Double("grad_norm");
        Assert.True(lossDiff < 1e-5, $"loss differs by {lossDiff:E2}");
        Assert.True(normRel < 1e-5, $"gradient norm {gradNorm} vs {v.Double("grad_norm")} (relative {normRel:E2})");

        // AdamW's first step moves an element by lr·φ(g), φ(g) = g/(|g|+ε) (m̂ = g, v̂ = g²), plus the decay.
        // φ's slope ε/(|g|+ε)² reaches 1/ε at g = 0, so where |g| is near ε (the key bias, whose gradient is
        // zero since softmax ignores a shift shared by all keys, and a few tiny others) a float32 gradient
        // error δ moves the step by up to lr·δ·ε/(min|g|+ε)²: that, bounded by the compared gradients,
        // is allowed on top of 1e-6 relative to |w| + lr (a weight near 0 is the difference of two near lr).
        double eps = v.Double("eps");   // torch.optim.AdamW's default, which TorchSharp's AdamW shares
        double worstGrad = 0, worstWeight = 0, worstSensitive = 0;
        int sensitive = 0, elements = 0;
        foreach (var (module, m) in modules)
            foreach (var (pname, p) in m.TrainableParameters)
            {
                var gRef = v.Tensor($"grad.{module}.{pname}");
                var g = p.grad!.to(ScalarType.Float64);
                double gScale = gRef.abs().max().item<double>();
                double gDiff = MaxAbsDiff(g, gRef) / gScale;
                worstGrad = Math.Max(worstGrad, gDiff);
                Assert.True(gDiff < 1e-5, $"{module}.{pname}: clipped gradient differs by {gDiff:E2} of its largest element {gScale:E2}");

                var wRef = v.Tensor($"updated.{module}.{pname}");
                var diff = (p.detach().to(ScalarType.Float64) - wRef).abs();
                double lr = module == "fusion" ? o.FusionLearningRate : o.ProjectorLearningRate;
                var smallest = where(g.sign().eq(gRef.sign()), minimum(g.abs(), gRef.abs()), zeros_like(g));
                var slack = (lr * eps * (g - gRef).abs() / (smallest + eps).square()).clamp_max(2 * lr);
                var scale = wRef.abs() + lr;
                var allowed = 1e-6 * scale + slack;
                var isSensitive = slack.gt(1e-6 * scale);
                double worst = (diff / allowed).max().item<double>();
                Assert.True(worst <= 1, $"{module}.{pname}: an updated weight differs by {worst:F2}× what float32 explains");
                worstWeight = Math.Max(worstWeight, (diff / scale).masked_fill(isSensitive, 0).max().item<double>());
                worstSensitive = Math.Max(worstSensitive, diff.masked_fill(isSensitive.logical_not(), 0).max().item<double>());
                sensitive += (int)isSensitive.sum().item<long>();
                elements += (int)p.numel();
            }
        output.WriteLine($"{name}: loss |Δ| {lossDiff:E2}, grad norm {gradNorm:F6} (relative |Δ| {normRel:E2}), " +
                         $"clipped gradients max |Δ|/max|g| {worstGrad:E2}, updated weights max |Δ|/(|w|+lr) {worstWeight:E2} " +
                         $"over {elements - sensitive} of {elements} elements; the {sensitive} with |g| near ε within {worstSensitive:E2}");
    }

    static OnnxTorchModule Load(string name, string graph)
    {
        var m = OnnxTorchModule.Load(Path.Combine(ModelsRoot, name, graph + ".onnx"));
        m.eval();
        return m;
    }

    /// <summary>F(z_img, e_text) with each sample's clean class tokens, then P(z_fused).</summary>
    static (Tensor Fused, Tensor Projected) Forward(OnnxTorchModule fusion, OnnxTorchModule projector, ReferenceVectors v)
    {
        var text = v.Tensor("class_tokens").index_select(0, v.Tensor("labels"));
        var fused = fusion.Run(v.Tensor("z_img"), text)[0];
        return (fused, projector.Run(fused)[0]);
    }

    /// <summary>log(1/τ) exactly as FusionTrainer creates it.</summary>
    static TorchSharp.Modules.Parameter LogitScale(FusionTrainingOptions o) =>
        new(tensor(Math.Log(1 / o.Temperature), dtype: ScalarType.Float32), requires_grad: o.LearnTemperature);

    static double MaxAbsDiff(Tensor actual, Tensor expected) =>
        (actual.detach().to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();

    static void AssertSameGraph(OnnxModel built, OnnxModel committed)
    {
        Assert.Equal(built.Graph.Initializer.Select(t => (t.Name, string.Join("×", t.Dims))),
                     committed.Graph.Initializer.Select(t => (t.Name, string.Join("×", t.Dims))));
        Assert.Equal(built.Graph.Node.Select(n => n.OpType), committed.Graph.Node.Select(n => n.OpType));
        Assert.Equal(built.Graph.Input.Select(i => i.Name), committed.Graph.Input.Select(i => i.Name));
        Assert.Equal(built.Graph.Output.Select(i => i.Name), committed.Graph.Output.Select(i => i.Name));
    }

    /// <summary>Writes Build/BuildProjector with perturbed initializers, and the config, into the source tree.</summary>
    static void WriteModels(string name, FusionConfig config, int seed, [CallerFilePath] string thisFile = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(thisFile)!, "Models", name);
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var gen = new Generator((ulong)seed + 1000);
        foreach (var (graph, model) in new[] { ("fusion", CrossAttentionFusion.Build(config, seed)), ("projector", CrossAttentionFusion.BuildProjector(config, seed + 1)) })
        {
            var inits = model.Graph.Initializer;
            for (int i = 0; i < inits.Count; i++)
            {
                if (inits[i].DataType != (int)global::Onnx.TensorProto.Types.DataType.Float) continue;
                var w = OnnxTensor.ToTorch(inits[i]);
                inits[i] = OnnxTensor.FromTorch(inits[i].Name, w + 0.05 * randn(w.shape, generator: gen));
            }
            model.Save(Path.Combine(folder, graph + ".onnx"));
        }
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
