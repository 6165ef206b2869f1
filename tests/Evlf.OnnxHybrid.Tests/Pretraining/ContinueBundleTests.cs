using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Tests.Data;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Pretraining;
using Evlf.OnnxHybrid.Tests.Bundles;
using Evlf.OnnxHybrid.Tests.Cli;
using Evlf.OnnxHybrid.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Pretraining;

/// <summary>
/// `evlf pretrain --from BUNDLE` (<see cref="PretrainOptions.From"/>): the bundle's VAE is kept, its denoisers train further
/// from their own weights (0 steps: unchanged), and a bundle this pretraining could not have written is refused up front.
/// </summary>
public class ContinueBundleTests
{
    static LatentSet Latents(int n = 12)
    {
        using var g = new Generator(7);
        var means = randn(new long[] { n, 4, 4, 4 }, generator: g);
        var labels = tensor(Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray());
        return new LatentSet(means, zeros_like(means), labels);
    }

    /// <summary>The largest difference between the same-named weights of two ONNX files.</summary>
    static double LargestDifference(string a, string b)
    {
        using var x = OnnxTorchModule.FromModel(OnnxModel.Load(a));
        using var y = OnnxTorchModule.FromModel(OnnxModel.Load(b));
        var other = y.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        double largest = 0;
        foreach (var (name, p) in x.named_parameters())
            largest = Math.Max(largest, (p - other[name]).abs().max().item<float>());
        return largest;
    }

    [Fact]
    public void DitContinuesFromTheBundlesWeights()
    {
        using var dir = new TempDir();
        var bundle = ModelBundle.Load(TinyBundle.Create(dir.Combine("bundle")));
        string start = bundle.PathOf("dit.onnx");
        var latents = Latents();

        // A learning rate too small to move anything: the written EMA weights are the bundle's, not a fresh network's.
        var still = DenoiserStage.ContinueDit(bundle, latents, new DenoiserTrainingOptions(Steps: 2, BatchSize: 4, LearningRate: 1e-12, CheckpointEvery: 1),
            seed: 0, dir.Combine("still"));
        Assert.True(LargestDifference(still.ModelPath, start) < 1e-6, "the continued DiT did not start from the bundle's weights");
        string fresh = dir.Combine("fresh.onnx");
        ClassDit.Build(TinyBundle.Dit, 99).Save(fresh);
        Assert.True(LargestDifference(fresh, start) > 1e-3, "a freshly drawn DiT should differ from the bundle's");

        // A real learning rate moves them, and the losses are the diffusion loss of a trained (not random) start.
        var moved = DenoiserStage.ContinueDit(bundle, latents, new DenoiserTrainingOptions(Steps: 4, BatchSize: 4, LearningRate: 1e-2, CheckpointEvery: 2),
            seed: 0, dir.Combine("moved"));
        Assert.Equal(2, moved.Losses.Length);
        Assert.True(LargestDifference(moved.ModelPath, start) > 1e-4, "training further did not change the DiT");

        // 0 steps: the bundle's own file, untouched.
        var kept = DenoiserStage.ContinueDit(bundle, latents, new DenoiserTrainingOptions(Steps: 0), seed: 0, dir.Combine("kept"));
        Assert.Equal(start, kept.ModelPath);
        Assert.Empty(kept.Losses);
    }

    [Fact]
    public void UNetContinuesFromTheBundlesWeightsOrStaysAsItIs()
    {
        using var dir = new TempDir();
        var bundle = ModelBundle.Load(TinyBundle.Create(dir.Combine("bundle"), withUNet: true));
        string start = bundle.PathOf("unet.onnx");
        using var g = new Generator(3);
        var contexts = randn(new long[] { 3, 8, 384 }, generator: g);
        var empty = randn(new long[] { 1, 8, 384 }, generator: g);

        var still = DenoiserStage.ContinueUNet(bundle, Latents(), contexts, empty,
            new DenoiserTrainingOptions(Steps: 1, BatchSize: 4, LearningRate: 1e-12, CheckpointEvery: 1), seed: 0, dir.Combine("still"));
        Assert.True(LargestDifference(still.ModelPath, start) < 1e-6, "the continued UNet did not start from the bundle's weights");
        Assert.Equal(start, DenoiserStage.ContinueUNet(bundle, Latents(), contexts, empty, new DenoiserTrainingOptions(Steps: 0), 0, dir.Combine("kept")).ModelPath);
    }

    [Fact]
    public void KeptVaeIsTheBundlesWithItsPsnrMeasuredAgain()
    {
        using var dir = new TempDir();
        var bundle = ModelBundle.Load(TinyBundle.Create(dir.Combine("bundle")));
        using var g = new Generator(11);
        var test = rand(new long[] { 6, 1, 16, 16 }, generator: g) * 2 - 1;
        var kept = VaeStage.Keep(bundle, test);
        Assert.Equal(bundle.PathOf("vae_encoder.onnx"), kept.EncoderPath);
        Assert.Equal(bundle.PathOf("vae_decoder.onnx"), kept.DecoderPath);
        Assert.Equal(0.5, kept.ScalingFactor);  // TinyBundle's manifest
        Assert.Equal(VaeStage.TestPsnr(kept.EncoderPath, kept.DecoderPath, test), kept.TestPsnr);
        Assert.Empty(kept.Losses);
    }

    /// <summary>Images in [−1, 1] for TinyBundle's VAE, and their latents as the pretraining's latents stage computes them.</summary>
    static (Tensor Images, LatentSet Latents) EncodedImages(ModelBundle bundle, int n, ulong seed)
    {
        using var g = new Generator(seed);
        var images = rand(new long[] { n, 1, 16, 16 }, generator: g) * 2 - 1;
        using var encoder = OnnxSession.Open(bundle.PathOf("vae_encoder.onnx"));
        var r = encoder.Run(new Dictionary<string, Tensor> { [KlVae.ImageInput] = images });
        double s = bundle.Manifest.Latent.ScalingFactor;
        return (images, new LatentSet(r[KlVae.MeanOutput] * s, (r[KlVae.LogVarOutput].clamp(-30, 20) * 0.5).exp() * s, zeros(n, ScalarType.Int64)));
    }

    [Fact]
    public void DecoderContinuesFromTheBundlesWeightsOnTheFrozenEncodersLatents()
    {
        using var dir = new TempDir();
        var bundle = ModelBundle.Load(TinyBundle.Create(dir.Combine("bundle")));
        var (train, latents) = EncodedImages(bundle, 8, 5);
        var (test, _) = EncodedImages(bundle, 6, 6);
        string start = bundle.PathOf("vae_decoder.onnx");

        // A learning rate too small to move anything: the written decoder is the bundle's, and the first step's loss is the
        // MSE of ONNX Runtime's decoder on the same posterior sample (the sampler's batch and noise for step 0).
        var still = VaeStage.ContinueDecoder(bundle, latents, train, test, new VaeDecoderOptions(Steps: 1, BatchSize: 4, LearningRate: 1e-12, CheckpointEvery: 1),
            seed: 0, dir.Combine("still"));
        Assert.True(LargestDifference(still.DecoderPath, start) < 1e-6, "the continued decoder did not start from the bundle's weights");
        var sampler = new EpochSampler(8, 4, 0);
        var rows = sampler.Indices(0);
        var means = latents.Means.index_select(0, rows);
        var z = (means + latents.Stds.index_select(0, rows) * randn(means.shape, generator: sampler.StepGenerator(0))) / 0.5;
        using (var decoder = OnnxSession.Open(start))
        {
            var y = decoder.Run(new Dictionary<string, Tensor> { [KlVae.LatentInput] = z })[KlVae.ImageOutput];
            Assert.Equal((y - train.index_select(0, rows)).pow(2).mean().item<float>(), still.Losses.Single(), 4);
        }
        // The encoder and its scaling factor are the bundle's; the PSNR is the new decoder's.
        Assert.Equal(bundle.PathOf("vae_encoder.onnx"), still.EncoderPath);
        Assert.Equal(0.5, still.ScalingFactor);
        Assert.Equal(VaeStage.TestPsnr(still.EncoderPath, still.DecoderPath, test), still.TestPsnr);

        // A real learning rate moves the decoder and lowers its loss on these images; the same seed gives the same bytes.
        var options = new VaeDecoderOptions(Steps: 30, BatchSize: 4, LearningRate: 1e-2, CheckpointEvery: 10);
        var moved = VaeStage.ContinueDecoder(bundle, latents, train, test, options, seed: 0, dir.Combine("moved"));
        Assert.Equal(3, moved.Losses.Length);
        Assert.True(moved.Losses[^1] < moved.Losses[0], $"losses {string.Join(", ", moved.Losses)} did not fall");
        Assert.True(LargestDifference(moved.DecoderPath, start) > 1e-4, "training further did not change the decoder");
        var again = VaeStage.ContinueDecoder(bundle, latents, train, test, options, seed: 0, dir.Combine("again"));
        Assert.Equal(File.ReadAllBytes(moved.DecoderPath), File.ReadAllBytes(again.DecoderPath));

        // 0 steps: the bundle's VAE as it is.
        var kept = VaeStage.ContinueDecoder(bundle, latents, train, test, new VaeDecoderOptions(), seed: 0, dir.Combine("kept"));
        Assert.Equal(start, kept.DecoderPath);
        Assert.Empty(kept.Losses);
    }

    [Fact]
    public void ContinuedManifestIsTheBundlesUnderTheNamesPretrainWrites()
    {
        using var dir = new TempDir();
        // A bundle whose files have other names than the ones pretrain writes.
        string folder = TinyBundle.Create(dir.Combine("bundle"), withUNet: true);
        var original = ModelBundle.Load(folder);
        File.Move(Path.Combine(folder, "vae_encoder.onnx"), Path.Combine(folder, "enc.onnx"));
        File.Move(Path.Combine(folder, "dit.onnx"), Path.Combine(folder, "class-dit.onnx"));
        ModelBundle.WriteManifest(folder, original.Manifest with
        {
            Vae = original.Manifest.Vae with { Encoder = "enc.onnx" },
            Denoisers = new(original.Manifest.Denoisers) { ["dit"] = original.Manifest.Denoisers["dit"] with { File = "class-dit.onnx" } },
        });
        var bundle = ModelBundle.Load(folder);
        var m = Pretrainer.ContinuedManifest(bundle, "longer");
        Assert.Equal("longer", m.Name);
        Assert.Equal("vae_encoder.onnx", m.Vae.Encoder);
        Assert.Equal(["dit", "unet"], m.Denoisers.Keys.Order());
        Assert.Equal("unet.onnx", m.Denoisers["unet"].File);
        Assert.Equal("class-dit.onnx", bundle.Manifest.Denoisers["dit"].File);
        Assert.Equal(bundle.Manifest.Denoisers["dit"] with { File = "dit.onnx" }, m.Denoisers["dit"]);
        Assert.Equal(bundle.Manifest.Latent, m.Latent);
        Assert.Equal(bundle.Manifest.Classes, m.Classes);
    }

    [Fact]
    public void BundleThatPretrainCouldNotHaveWrittenIsRefused()
    {
        using var dir = new TempDir();
        var data = DataSpec.Open($"folder:{TinyBundle.Dataset(dir.Combine("data"), perClass: 2)}");
        var options = new PretrainOptions { ImageSize = 16 };
        string Refusal(string bundle, string? outDir = null)
        {
            var e = Assert.Throws<UserInputException>(() => Pretrainer.StartBundle(bundle, outDir ?? dir.Combine("out"), data, options));
            Assert.Contains(PretrainOptions.OptionName(nameof(PretrainOptions.From)), e.Options);
            return e.Message;
        }

        Assert.Contains("not a usable bundle", Refusal(dir.Combine("no-such-bundle")));
        string ditOnly = Refusal(TinyBundle.Create(dir.Combine("dit-only")));
        Assert.Contains("no unet-text denoiser named 'unet'", ditOnly);
        Assert.Contains("its text encoder is missing, not the built-in MiniLM", ditOnly);
        Assert.Contains("classes (x, y, z)", Refusal(TinyBundle.Create(dir.Combine("other-classes"), m => m with { Classes = ["x", "y", "z"] }, withUNet: true)));
        Assert.Contains("not 1 of 32 × 32", Assert.Throws<UserInputException>(() =>
            Pretrainer.StartBundle(TinyBundle.Create(dir.Combine("sized"), withUNet: true), dir.Combine("out"), data, new PretrainOptions())).Message);
        string usable = TinyBundle.Create(dir.Combine("usable"), withUNet: true);
        Assert.Contains("never writes into its inputs", Refusal(usable, usable));
        Assert.Contains("keep inputs out of the folders evlf writes", Refusal(usable, dir.Combine("")));
        Assert.Equal(usable, Pretrainer.StartBundle(usable, dir.Combine("out"), data, options).Directory);
    }

    [Fact]
    public void CheckpointsResumeOnlyWithTheStartTheyWereTrainedFrom()
    {
        using var dir = new TempDir();
        var bundle = ModelBundle.Load(TinyBundle.Create(dir.Combine("bundle"), withUNet: true));
        string Refusal(string work, ModelBundle? from)
        {
            var e = Assert.Throws<UserInputException>(() => Pretrainer.RecordStart(work, from));
            Assert.Equal(PretrainOptions.OptionName(nameof(PretrainOptions.From)), e.Option);
            return e.Message;
        }

        // From scratch: an attempt from scratch resumes, one continuing a bundle is refused.
        var scratch = Directory.CreateDirectory(dir.Combine("scratch")).FullName;
        Pretrainer.RecordStart(scratch, null);
        Pretrainer.RecordStart(scratch, null);
        Assert.Contains("were trained from scratch", Refusal(scratch, bundle));

        // From a bundle: the same files resume (wherever they lie), other files or no bundle are refused.
        var continued = Directory.CreateDirectory(dir.Combine("continued")).FullName;
        Pretrainer.RecordStart(continued, bundle);
        SafetyTests.CopyTree(bundle.Directory, dir.Combine("copy"));
        Pretrainer.RecordStart(continued, ModelBundle.Load(dir.Combine("copy")));
        var recorded = File.ReadAllText(Path.Combine(continued, Pretrainer.StartFile));
        File.AppendAllText(Path.Combine(dir.Combine("copy"), "dit.onnx"), " ");
        Assert.Contains("trained from a bundle with other files", Refusal(continued, ModelBundle.Load(dir.Combine("copy"))));
        Assert.Contains("is not given", Refusal(continued, null));
        Assert.Equal(recorded, File.ReadAllText(Path.Combine(continued, Pretrainer.StartFile))); // refusals change nothing

        // A work folder from before the record: resumed as it is, and recorded from then on.
        var older = Directory.CreateDirectory(dir.Combine("older")).FullName;
        File.WriteAllText(Path.Combine(older, "stage-seconds.json"), "{}");
        Pretrainer.RecordStart(older, bundle);
        Assert.Contains("were trained from a bundle", Refusal(older, null));
    }

    [Fact]
    public void CommandLineAllowsZeroStepsOnlyWhenContinuing()
    {
        using var dir = new TempDir();
        Assert.Contains("--unet-steps must be at least 1 (0 only with --from); got 0",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--out", dir.Combine("out"), "--unet-steps", "0")));
        Assert.Contains("--vae-epochs cannot be used with --from",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--out", dir.Combine("out"), "--from", dir.Combine("b"), "--vae-epochs", "1")));
        Assert.Contains("--vae-decoder-steps needs --from",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--out", dir.Combine("out"), "--vae-decoder-steps", "10")));
        Assert.Contains("--vae-decoder-steps must be at least 0; got -1",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--out", dir.Combine("out"), "--from", dir.Combine("b"), "--vae-decoder-steps", "-1")));
        Assert.Contains("--dit-lr must be a number in (0, 1); got 0",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--out", dir.Combine("out"), "--dit-lr", "0")));
        string bundle = TinyBundle.Create(dir.Combine("bundle"), withUNet: true);
        Assert.Contains("--out '" + bundle + "' is the folder of --from",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--data", "folder:" + TinyBundle.Dataset(dir.Combine("data"), 2), "--out", bundle, "--from", bundle)));
        Assert.False(File.Exists(Path.Combine(bundle, Pretrainer.ReportFile)), "nothing may be written into the bundle continued from");
    }
}
