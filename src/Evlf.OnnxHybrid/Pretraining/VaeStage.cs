using System.Diagnostics;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Pretraining;

/// <summary>KL-VAE training options: MSE reconstruction + a small KL weight (per element), Adam.</summary>
public sealed record VaeStageOptions(
    int Epochs = 2,
    int BatchSize = 64,
    double LearningRate = 1e-3,
    double KlWeight = 1e-5,
    int CheckpointEvery = 200);

/// <summary>
/// Options for training a kept VAE's decoder further (<see cref="PretrainOptions.VaeDecoder"/>): MSE reconstruction from
/// posterior samples of the frozen encoder, Adam, the learning rate falling from <paramref name="LearningRate"/> to zero on a
/// half cosine over <paramref name="Steps"/> steps (0: the decoder is kept as it is).
/// </summary>
public sealed record VaeDecoderOptions(
    int Steps = 0,
    int BatchSize = 64,
    double LearningRate = 5e-4,
    int CheckpointEvery = 200);

/// <param name="EncoderPath">The written encoder, WORK_DIR/vae_encoder.onnx.</param>
/// <param name="DecoderPath">The written decoder, WORK_DIR/vae_decoder.onnx.</param>
/// <param name="TestPsnr">Mean per-image PSNR (dB, pixels in [0,1]) of posterior-mean reconstructions of the test split.</param>
/// <param name="ScalingFactor">1 / std of the posterior means of training images, as Stable Diffusion's 0.18215 was derived.</param>
/// <param name="Losses">Mean training loss of each checkpoint interval.</param>
/// <param name="Seconds">Wall-clock time of the stage, training and both measurements included.</param>
public sealed record VaeStageResult(string EncoderPath, string DecoderPath, double TestPsnr, double ScalingFactor, double[] Losses, double Seconds);

/// <summary>
/// Trains the default bundle's KL-VAE through the importer and writes the encoder and decoder ONNX files. Encoder and
/// decoder train on the device given (<see cref="ComputeDevice"/>; null: the CPU); batches and the reparameterisation
/// noise are drawn on the CPU and moved, so a CPU run is the same whatever the device code.
/// </summary>
public static class VaeStage
{
    public static VaeStageResult Run(KlVaeConfig config, Tensor train, Tensor test, VaeStageOptions o, int seed, string workDir,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        var clock = Stopwatch.StartNew();
        var checkpoint = new TrainingCheckpoint(Path.Combine(workDir, "vae"));
        using var encoder = OnnxTorchModule.FromModel(checkpoint.ModelOr("encoder", () => KlVae.BuildEncoder(config, seed)));
        using var decoder = OnnxTorchModule.FromModel(checkpoint.ModelOr("decoder", () => KlVae.BuildDecoder(config, (int)Seeds.Derive(seed, SeedStream.VaeDecoderInit))));
        // Parameters are replaced by the move, so it comes before the optimizer holds them.
        if (device is not null)
        {
            encoder.to(device);
            decoder.to(device);
        }
        var modules = new Dictionary<string, OnnxTorchModule> { ["encoder"] = encoder, ["decoder"] = decoder };
        var parameters = modules.Values.SelectMany(m => m.parameters()).Where(p => p.requires_grad).ToList();
        using var optimizer = optim.Adam(parameters, o.LearningRate);
        var sampler = new EpochSampler(train.shape[0], o.BatchSize, seed);
        long total = sampler.StepsPerEpoch * o.Epochs;

        var losses = TrainingLoop.Run("vae", checkpoint, modules, optimizer, total, step =>
        {
            var x = OnDevice(train.index_select(0, sampler.Indices(step)), device);
            var moments = encoder.Run(x);
            Tensor mean = moments[0], logVar = moments[1].clamp(-30, 20);
            var z = mean + (logVar * 0.5).exp() * OnDevice(randn(mean.shape, generator: sampler.StepGenerator(step)), device);
            var reconstruction = decoder.Run(z)[0];
            var kl = (mean.pow(2) + logVar.exp() - 1 - logVar).mean() * 0.5;
            return nn.functional.mse_loss(reconstruction, x) + kl * o.KlWeight;
        }, o.CheckpointEvery, progress: progress, cancellationToken: cancellationToken);

        string encoderPath = Path.Combine(workDir, "vae_encoder.onnx"), decoderPath = Path.Combine(workDir, "vae_decoder.onnx");
        encoder.Save(encoderPath);
        decoder.Save(decoderPath);
        double psnr = TestPsnr(encoderPath, decoderPath, test);
        double scaling = ScalingFactor(encoderPath, train, seed);
        return new VaeStageResult(encoderPath, decoderPath, psnr, scaling, losses, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The VAE of <paramref name="bundle"/> kept as it is (<see cref="PretrainOptions.From"/>): its files, its scaling factor, and
    /// its PSNR on <paramref name="test"/> measured again; no training, so no losses.
    /// </summary>
    public static VaeStageResult Keep(ModelBundle bundle, Tensor test)
    {
        var clock = Stopwatch.StartNew();
        string encoderPath = bundle.PathOf(bundle.Manifest.Vae.Encoder), decoderPath = bundle.PathOf(bundle.Manifest.Vae.Decoder);
        double psnr = TestPsnr(encoderPath, decoderPath, test);
        return new VaeStageResult(encoderPath, decoderPath, psnr, bundle.Manifest.Latent.ScalingFactor, [], clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The VAE of <paramref name="bundle"/> with its decoder trained further for <paramref name="o"/>'s steps. The encoder is
    /// kept, so the latents, the scaling factor and every denoiser trained on them stay valid; the decoder, from the bundle's
    /// weights, learns to rebuild the training images from posterior samples of those latents
    /// (<paramref name="latents"/>: the encoder's means and standard deviations times the bundle's scaling factor, one row per
    /// image of <paramref name="train"/>). A checkpoint in <paramref name="workDir"/> resumes, as for training.
    /// </summary>
    public static VaeStageResult ContinueDecoder(ModelBundle bundle, LatentSet latents, Tensor train, Tensor test, VaeDecoderOptions o, int seed,
        string workDir, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        if (o.Steps == 0) return Keep(bundle, test);
        var clock = Stopwatch.StartNew();
        string encoderPath = bundle.PathOf(bundle.Manifest.Vae.Encoder);
        double scaling = bundle.Manifest.Latent.ScalingFactor;
        var checkpoint = new TrainingCheckpoint(Path.Combine(workDir, "vae-decoder"));
        using var decoder = OnnxTorchModule.FromModel(checkpoint.ModelOr("decoder", () => OnnxModel.Load(bundle.PathOf(bundle.Manifest.Vae.Decoder))));
        if (device is not null) decoder.to(device);
        var modules = new Dictionary<string, OnnxTorchModule> { ["decoder"] = decoder };
        using var optimizer = optim.Adam(decoder.parameters().Where(p => p.requires_grad).ToList(), o.LearningRate);
        var sampler = new EpochSampler(train.shape[0], o.BatchSize, seed);

        var losses = TrainingLoop.Run("vae-decoder", checkpoint, modules, optimizer, o.Steps, step =>
        {
            var rows = sampler.Indices(step);
            var means = latents.Means.index_select(0, rows);
            var z = (means + latents.Stds.index_select(0, rows) * randn(means.shape, generator: sampler.StepGenerator(step))) / scaling;
            return nn.functional.mse_loss(decoder.Run(OnDevice(z, device))[0], OnDevice(train.index_select(0, rows), device));
        }, o.CheckpointEvery,
            beforeStep: step =>
            {
                foreach (var group in optimizer.ParamGroups) group.LearningRate = o.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / o.Steps));
            },
            progress: progress, cancellationToken: cancellationToken);

        string decoderPath = Path.Combine(workDir, "vae_decoder.onnx");
        decoder.Save(decoderPath);
        return new VaeStageResult(encoderPath, decoderPath, TestPsnr(encoderPath, decoderPath, test), scaling, losses, clock.Elapsed.TotalSeconds);
    }

    static Tensor OnDevice(Tensor t, Device? device) => device is null ? t : t.to(device);

    /// <summary>Mean per-image PSNR in dB with pixels in [0, 1], reconstructing from the posterior mean, in ONNX Runtime.</summary>
    public static double TestPsnr(string encoderPath, string decoderPath, Tensor images, int batch = 500)
    {
        using var encoder = OnnxSession.Open(encoderPath);
        using var decoder = OnnxSession.Open(decoderPath);
        double sum = 0;
        long n = images.shape[0];
        for (long start = 0; start < n; start += batch)
        {
            using var scope = NewDisposeScope();
            var x = images.narrow(0, start, Math.Min(batch, n - start));
            var mean = encoder.Run(new Dictionary<string, Tensor> { [KlVae.ImageInput] = x })[KlVae.MeanOutput];
            var y = decoder.Run(new Dictionary<string, Tensor> { [KlVae.LatentInput] = mean })[KlVae.ImageOutput];
            var mse = ((y.clamp(-1, 1) - x) / 2).pow(2).flatten(1).mean(new long[] { 1 });
            sum += (-10 * mse.clamp_min(1e-10).log10()).sum().item<float>();
        }
        return sum / n;
    }

    /// <summary>1 / std of the posterior means over up to 10000 training images.</summary>
    public static double ScalingFactor(string encoderPath, Tensor images, int seed, int count = 10000)
    {
        using var scope = NewDisposeScope();
        using var encoder = OnnxSession.Open(encoderPath);
        long n = Math.Min(count, images.shape[0]);
        var pick = randperm(images.shape[0], generator: new Generator(Seeds.Derive(seed, SeedStream.VaeCheckImages))).narrow(0, 0, n);
        var means = new List<Tensor>();
        for (long start = 0; start < n; start += 500)
        {
            var x = images.index_select(0, pick.narrow(0, start, Math.Min(500, n - start)));
            means.Add(encoder.Run(new Dictionary<string, Tensor> { [KlVae.ImageInput] = x })[KlVae.MeanOutput]);
        }
        return 1.0 / cat(means, 0).to(ScalarType.Float64).std().item<double>();
    }
}
