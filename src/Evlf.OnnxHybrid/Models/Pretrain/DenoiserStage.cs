using System.Diagnostics;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Models.Pretrain;

/// <summary>Denoiser training options (both kinds). Condition dropout trains the unconditional branch for guidance.</summary>
public sealed record DenoiserStageOptions(
    int Steps = 3000,
    int BatchSize = 128,
    double LearningRate = 3e-4,
    double WeightDecay = 0,
    double ConditionDropout = 0.1,
    double EmaDecay = 0.999,
    int CheckpointEvery = 250);

public sealed record DenoiserStageResult(string ModelPath, double[] Losses, double Seconds);

/// <summary>
/// The latent training set of a denoiser: posterior means and standard deviations of the VAE, already
/// multiplied by the bundle's scaling factor, with labels. Each step draws z = mean + std·ε afresh.
/// </summary>
public sealed record LatentSet(Tensor Means, Tensor Stds, Tensor Labels)
{
    public Tensor Sample(Tensor indices, Generator generator) =>
        Means.index_select(0, indices) + Stds.index_select(0, indices) * randn(new[] { indices.shape[0] }.Concat(Means.shape.Skip(1)).ToArray(), generator: generator);
}

/// <summary>
/// Trains the default bundle's denoisers through the importer: the text UNet (ε-MSE on a scaled-linear
/// schedule, like Stable Diffusion) and the class DiT (ε-MSE + VB on a linear schedule, like DiT), both with
/// 10% condition dropout and an EMA of the weights, which is what gets written.
/// </summary>
public static class DenoiserStage
{
    public static DenoiserStageResult TrainDit(ClassDitConfig config, LatentSet data, DenoiserStageOptions o, int seed, string workDir,
        IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default) =>
        TrainDit("dit", () => ClassDit.Build(config, seed), ImportOptions.Default, NoiseScheduleOptions.DiT, config.LatentChannels, config.NullClass, config.LearnSigma,
            data, o, seed, workDir, progress, cancellationToken);

    /// <summary>Trains (or fine-tunes, when <paramref name="build"/> loads an existing model and <paramref name="import"/> picks a subset) a class DiT.</summary>
    public static DenoiserStageResult TrainDit(string name, Func<OnnxModel> build, ImportOptions import, NoiseScheduleOptions scheduleOptions,
        int latentChannels, int nullClass, bool learnSigma, LatentSet data, DenoiserStageOptions o, int seed, string workDir,
        IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default)
    {
        var schedule = NoiseSchedule.Create(scheduleOptions);
        return Train(name, build, import, o, seed, workDir, data, progress, cancellationToken, (module, step, sampler, indices) =>
        {
            var gen = sampler.StepGenerator(step);
            var x0 = data.Sample(indices, gen);
            long n = x0.shape[0];
            var t = randint(0, schedule.Length, new[] { n }, generator: gen);
            var noise = randn(x0.shape, generator: gen);
            var xt = schedule.AddNoise(x0, noise, t);
            var drop = rand(new[] { n }, generator: gen).lt(o.ConditionDropout);
            var y = where(drop, full_like(indices, nullClass), data.Labels.index_select(0, indices));
            var output = module.Run(xt, t, y)[0];
            var eps = output.narrow(1, 0, latentChannels);
            return DiffusionLoss.Epsilon(eps, noise) + (learnSigma ? DiffusionLoss.LearnedRangeVb(schedule, x0, xt, t, output) : zeros(1).sum());
        });
    }

    /// <param name="config">Architecture of the text UNet to build (a checkpoint in <paramref name="workDir"/> takes precedence, to resume).</param>
    /// <param name="data">Latent training set; its labels index the rows of <paramref name="classContexts"/>.</param>
    /// <param name="classContexts">Text encoder token embeddings of each class prompt (K, L, D).</param>
    /// <param name="nullContext">Embeddings of the empty prompt (1, L, D), the unconditional branch.</param>
    /// <param name="o">Steps, batch size, AdamW settings, condition dropout, EMA decay and checkpoint interval.</param>
    /// <param name="seed">Seed of the initial weights, the batch order and each step's draws (timesteps, noise, condition dropout).</param>
    /// <param name="workDir">Folder of the checkpoint (unet/) and of the EMA weights written at the end (unet.onnx).</param>
    /// <param name="progress">Receives a <see cref="StepReport"/> after each step.</param>
    /// <param name="cancellationToken">Checked before each step.</param>
    public static DenoiserStageResult TrainUNet(TextUNetConfig config, LatentSet data, Tensor classContexts, Tensor nullContext, DenoiserStageOptions o,
        int seed, string workDir, IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default) =>
        TrainUNet("unet", () => TextUNet.Build(config, seed), ImportOptions.Default, NoiseScheduleOptions.StableDiffusion, data, classContexts, nullContext, o, seed, workDir, progress, cancellationToken);

    /// <summary>Trains (or fine-tunes) a text UNet; see <see cref="TrainDit(string, Func{OnnxModel}, ImportOptions, NoiseScheduleOptions, int, int, bool, LatentSet, DenoiserStageOptions, int, string, IProgress{StepReport}?, CancellationToken)"/>.</summary>
    public static DenoiserStageResult TrainUNet(string name, Func<OnnxModel> build, ImportOptions import, NoiseScheduleOptions scheduleOptions, LatentSet data,
        Tensor classContexts, Tensor nullContext, DenoiserStageOptions o, int seed, string workDir, IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default)
    {
        var schedule = NoiseSchedule.Create(scheduleOptions);
        var contexts = cat(new[] { classContexts, nullContext }, 0);
        long nullIndex = classContexts.shape[0];
        return Train(name, build, import, o, seed, workDir, data, progress, cancellationToken, (module, step, sampler, indices) =>
        {
            var gen = sampler.StepGenerator(step);
            var x0 = data.Sample(indices, gen);
            long n = x0.shape[0];
            var t = randint(0, schedule.Length, new[] { n }, generator: gen);
            var noise = randn(x0.shape, generator: gen);
            var xt = schedule.AddNoise(x0, noise, t);
            var drop = rand(new[] { n }, generator: gen).lt(o.ConditionDropout);
            var which = where(drop, full_like(indices, nullIndex), data.Labels.index_select(0, indices));
            var context = contexts.index_select(0, which);
            return DiffusionLoss.Epsilon(module.Run(xt, t, context)[0], noise);
        });
    }

    static DenoiserStageResult Train(string name, Func<OnnxModel> build, ImportOptions import, DenoiserStageOptions o, int seed, string workDir, LatentSet data,
        IProgress<StepReport>? progress, CancellationToken cancellationToken, Func<OnnxTorchModule, long, EpochSampler, Tensor, Tensor> loss)
    {
        var clock = Stopwatch.StartNew();
        var checkpoint = new TrainingCheckpoint(Path.Combine(workDir, name));
        using var module = OnnxTorchModule.FromModel(checkpoint.ModelOr("model", build), import);
        if (!module.TrainableParameters.Any())
            throw new UserInputException($"Denoiser '{name}' has no trainable parameters under the fine-tune pattern {import.Trainable}; expected at least one initializer name to match.");
        using var ema = OnnxTorchModule.FromModel(checkpoint.ModelOr("ema", build), new ImportOptions(Trainable: new Regex("(?!)")));
        var trainable = module.TrainableParameters.ToList();
        var emaParameters = ema.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var optimizer = optim.AdamW(trainable.Select(p => p.Parameter), o.LearningRate, weight_decay: o.WeightDecay);
        var sampler = new EpochSampler(data.Means.shape[0], o.BatchSize, seed);
        var modules = new Dictionary<string, OnnxTorchModule> { ["model"] = module, ["ema"] = ema };

        var losses = TrainingLoop.Run(name, checkpoint, modules, optimizer, o.Steps,
            step => loss(module, step, sampler, sampler.Indices(step)),
            o.CheckpointEvery, clipGradNorm: 1.0,
            afterStep: step =>
            {
                // Warm-up of the EMA (as in many diffusion trainers): min(decay, (1+s)/(10+s)) so early weights fade quickly.
                double decay = Math.Min(o.EmaDecay, (1.0 + step) / (10.0 + step));
                using var _ = no_grad();
                foreach (var (pname, p) in trainable) emaParameters[pname].mul_(decay).add_(p, alpha: 1 - decay);
            },
            progress: progress, cancellationToken: cancellationToken);

        string path = Path.Combine(workDir, name + ".onnx");
        ema.Save(path);
        return new DenoiserStageResult(path, losses, clock.Elapsed.TotalSeconds);
    }
}
