using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Text;
using Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Export;

/// <summary>
/// Bundles written by tools/export (random small configurations of DiT and SD 1.x, the same code path as full size):
/// they load as bundles, ONNX Runtime reproduces the PyTorch modules the script exported, and the importer
/// reproduces ONNX Runtime.
/// </summary>
public class ExportedBundleTests
{
    const double Tolerance = 1e-4;

    public static IEnumerable<object[]> Bundles => ExportedBundle.Names.Select(n => new object[] { n });

    public static IEnumerable<object[]> Components => ExportedBundle.AllComponents();

    [Theory]
    [MemberData(nameof(Bundles))]
    public void PassesTheBundleCheckWithNoProblems(string name)
    {
        var fx = new ExportedBundle(name);
        var (bundle, problems) = ModelBundle.Check(fx.Directory, new SessionSettings(ExecutionDevice.Cpu));
        Assert.Empty(problems);
        var m = bundle!.Manifest;
        Assert.Equal(3, m.Image.Channels);
        Assert.Equal(0.18215, m.Latent.ScalingFactor, 12);
        Assert.Equal(new[] { "vae_encoder", "vae_decoder" }.Concat(m.Denoisers.Keys).Concat(m.TextEncoder is null ? Array.Empty<string>() : new[] { "text_encoder" }).Order(),
            fx.Components.Keys.Order());
    }

    [Fact]
    public void TheDitBundleSaysWhatDitNeeds()
    {
        var m = ModelBundle.Load(new ExportedBundle("dit-tiny").Directory).Manifest;
        var d = m.Denoisers["dit"];
        Assert.Equal(DenoiserSpec.DitClass, d.Kind);
        Assert.True(d.LearnedSigma);
        Assert.Equal(m.Classes.Count, d.NullClass);  // 5 classes, label 5 is the null class
        Assert.Equal(5, m.Classes.Count);
        Assert.Equal(("linear", 1e-4, 0.02, 1000), (d.Schedule.Kind, d.Schedule.BetaStart, d.Schedule.BetaEnd, d.Schedule.Steps));
        Assert.Equal((4, 8, 32), (m.Latent.Channels, m.Latent.Size, m.Image.Size));
    }

    [Fact]
    public void TheSdBundleHasAClipTextEncoderThatTokenizesAndEncodes()
    {
        var fx = new ExportedBundle("sd-tiny");
        var bundle = ModelBundle.Load(fx.Directory);
        var m = bundle.Manifest;
        var te = m.TextEncoder!;
        Assert.Equal(TokenizerConfig.ClipBpe, te.Tokenizer.Kind);
        Assert.Equal(PoolingRule.LastPad, te.Pooling);
        Assert.Equal(77, te.Tokenizer.MaxLength);
        Assert.Equal(("scaled-linear", 0.00085, 0.012), (m.Denoisers["unet"].Schedule.Kind, m.Denoisers["unet"].Schedule.BetaStart, m.Denoisers["unet"].Schedule.BetaEnd));
        Assert.Equal(DenoiserSpec.UNetText, m.Denoisers["unet"].Kind);

        using var scope = NewDisposeScope();
        using var encoder = bundle.OpenTextEncoder(new SessionSettings(ExecutionDevice.Cpu));
        Assert.Equal(te.Tokenizer.PadId, encoder.Tokenizer.EosId);  // SD 1.x pads with EOS, the vocabulary's last id
        using var e = encoder.Encode(new[] { "a photo of a cat", "dog" });
        Assert.Equal(new long[] { 2, 77, 16 }, e.Tokens.shape);
        Assert.Equal(new long[] { 2, 16 }, e.Pooled.shape);
        // "cat" is one merged token of the tiny vocabulary; last-pad pooling takes position 76.
        var ids = e.InputIds[0].data<long>().ToArray();
        Assert.Equal(encoder.Tokenizer.BosId, ids[0]);
        Assert.Contains(ids, id => id >= 512 && id < encoder.Tokenizer.BosId);  // merged tokens follow the 512 byte symbols
        Assert.Equal(0, (e.Pooled - e.Tokens[.., 76]).abs().max().item<float>());
    }

    [Fact]
    public void TheDitFixtureStoresFp16WeightsAsExternalDataUnderTheirParameterNames()
    {
        var fx = new ExportedBundle("dit-tiny");
        var model = OnnxModel.Load(fx.ModelPath("dit"));
        Assert.NotEmpty(model.ExternalLocations);
        Assert.All(model.ExternalLocations.Values, v => Assert.Equal("dit.onnx.data", v));
        var initializers = model.Graph.Initializer;
        Assert.Contains(initializers, t => t.DataType == (int)TensorProto.Types.DataType.Float16);
        Assert.DoesNotContain(initializers, t => t.Name.StartsWith("onnx::", StringComparison.Ordinal));
        // DiffFit-style fine-tuning finds what it trains by name: gammas, biases, the label table.
        var pattern = new Regex(ModelBundle.Load(fx.Directory).Manifest.Denoisers["dit"].FinetunePattern!);
        var trained = initializers.Select(t => t.Name).Where(n => pattern.IsMatch(n)).ToList();
        Assert.Contains("blocks.0.gamma1", trained);
        Assert.Contains("blocks.0.attn.gamma1", trained);
        Assert.Contains("y_embedder.embedding_table.weight", trained);
        Assert.Contains("blocks.1.attn.qkv.bias", trained);
        Assert.DoesNotContain(trained, n => n.Contains("qkv.weight"));
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void OnnxRuntimeMatchesPyTorch(string name, string component)
    {
        var fx = new ExportedBundle(name);
        using var scope = NewDisposeScope();
        using var session = OnnxSession.Open(fx.ModelPath(component), new SessionSettings(ExecutionDevice.Cpu));
        var actual = session.Run(fx.Inputs(component));
        var expected = fx.Outputs(component);
        Assert.NotEmpty(expected);
        foreach (var (output, want) in expected)
        {
            Assert.Equal(want.shape, actual[output].shape);
            double diff = (actual[output] - want).abs().max().item<float>();
            Assert.True(diff <= Tolerance, $"{name}/{component}/{output}: ONNX Runtime vs PyTorch max |diff| = {diff:E2}");
            Assert.True(want.abs().max().item<float>() > 0.1, $"{name}/{component}/{output}: reference outputs are ~0, so the comparison proves nothing");
        }
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void ImporterMatchesOnnxRuntimeAndPyTorch(string name, string component)
    {
        var fx = new ExportedBundle(name);
        using var scope = NewDisposeScope();
        var model = OnnxModel.Load(fx.ModelPath(component));
        var inputs = fx.Inputs(component);
        var diffs = ParityCheck.Run(model, inputs, new SessionSettings(ExecutionDevice.Cpu));
        Assert.Equal(fx.Outputs(component).Count, diffs.Count);
        foreach (var d in diffs)
            Assert.True(d.MaxAbsDiff <= Tolerance, $"{name}/{component}/{d.Name}: importer vs ONNX Runtime max |diff| = {d.MaxAbsDiff:E2}");

        using var module = OnnxTorchModule.FromModel(model);
        module.eval();
        Dictionary<string, Tensor> actual;
        using (no_grad()) actual = module.forward(inputs);
        foreach (var (output, want) in fx.Outputs(component))
        {
            double diff = (actual[output] - want).abs().max().item<float>();
            Assert.True(diff <= Tolerance, $"{name}/{component}/{output}: importer vs PyTorch max |diff| = {diff:E2}");
        }
    }
}
