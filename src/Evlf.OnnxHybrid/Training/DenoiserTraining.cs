using System.Diagnostics;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// Denoiser training options (both kinds). Condition dropout trains the unconditional branch for guidance. With
/// <paramref name="EmaWarmup"/> the EMA decays by min(EmaDecay, (1 + s)/(10 + s)) at step s, so early weights fade quickly;
/// without it, by EmaDecay from the first step (as MinimaxDiffusion does).
/// </summary>
public sealed record DenoiserTrainingOptions(
    int Steps = 3000,
    int BatchSize = 128,
    double LearningRate = 3e-4,
    double WeightDecay = 0,
    double ConditionDropout = 0.1,
    double EmaDecay = 0.999,
    int CheckpointEvery = 250,
    bool EmaWarmup = true);

/// <summary>The written model (the EMA weights), the mean loss of each checkpoint interval, and the wall time.</summary>
public sealed record DenoiserTrainingResult(string ModelPath, double[] Losses, double Seconds);

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
/// Trains or fine-tunes a denoiser through the importer: a text UNet (ε-MSE) or a class DiT (ε-MSE, + VB when it
/// learns σ), both with condition dropout for guidance and an EMA of the weights, which is what gets written.
/// <c>evlf pretrain</c> trains the default bundle's denoisers with it, distillation's denoiser fine-tune (<c>DistillOptions.Finetune</c>) and the Minimax stage fine-tune a bundle's.
/// The network and its EMA live on the device given (<see cref="ComputeDevice"/>; null: the CPU); each step's draws and its
/// loss stay on the CPU, so a CPU run repeats bit for bit and only batch-sized tensors cross.
/// </summary>
public static class DenoiserTraining
{
    /// <summary>Trains (or fine-tunes, when <paramref name="build"/> loads an existing model and <paramref name="import"/> picks a subset) a class DiT.</summary>
    public static DenoiserTrainingResult TrainDit(string name, Func<OnnxModel> build, ImportOptions import, NoiseScheduleOptions scheduleOptions,
        int latentChannels, int nullClass, bool learnSigma, LatentSet data, DenoiserTrainingOptions o, int seed, string workDir,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        var schedule = NoiseSchedule.Create(scheduleOptions);
        return Train(name, build, import, o, seed, workDir, data, progress, cancellationToken, device, (module, step, sampler, indices) =>
            DitStep(module, schedule, data, sampler, step, indices, o.ConditionDropout, latentChannels, nullClass, learnSigma).Loss);
    }

    /// <summary>
    /// MinimaxDiffusion's fine-tune of a class DiT (docs/PIPELINES.md §4): the diffusion loss (ε-MSE, + VB when it learns σ)
    /// plus <see cref="MinimaxOptions.RepresentativenessWeight"/>·rep + <see cref="MinimaxOptions.DiversityWeight"/>·div of
    /// <see cref="MinimaxCriteria"/> on x̂₀ (from the predicted ε, with its gradient) against per-class memories of
    /// <paramref name="data"/>'s latents and of earlier x̂₀. <paramref name="import"/> picks the DiffFit parameters; the EMA
    /// weights are written. The memories are checkpointed with the weights, so a resumed run gives the same model.
    /// <paramref name="classes"/> is the number of classes of <paramref name="data"/>'s labels (the memories' count).
    /// </summary>
    public static DenoiserTrainingResult FinetuneMinimaxDit(string name, Func<OnnxModel> build, ImportOptions import, NoiseScheduleOptions scheduleOptions,
        int latentChannels, int nullClass, bool learnSigma, int classes, LatentSet data, MinimaxOptions minimax, int seed, string workDir,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        var schedule = NoiseSchedule.Create(scheduleOptions);
        using var criteria = new MinimaxCriteria(classes, minimax.MemorySize);
        return Train(name, build, import, minimax.Training, seed, workDir, data, progress, cancellationToken, device, (module, step, sampler, indices) =>
        {
            var d = DitStep(module, schedule, data, sampler, step, indices, minimax.ConditionDropout, latentChannels, nullClass, learnSigma);
            var (representativeness, diversity) = criteria.Step(schedule.PredictX0FromEps(d.Xt, d.Eps, d.T), d.X0, d.Labels);
            return d.Loss + minimax.RepresentativenessWeight * representativeness + minimax.DiversityWeight * diversity;
        }, criteria);
    }

    /// <summary>One class-DiT step: the draws (<see cref="Draw"/>), the model call with dropped-out labels, and the diffusion loss.</summary>
    static (Tensor Loss, Tensor X0, Tensor Xt, Tensor T, Tensor Eps, Tensor Labels) DitStep(OnnxTorchModule module, NoiseSchedule schedule, LatentSet data,
        EpochSampler sampler, long step, Tensor indices, double conditionDropout, int latentChannels, int nullClass, bool learnSigma)
    {
        var (x0, t, noise, xt, drop) = Draw(schedule, data, sampler, step, indices, conditionDropout);
        var labels = data.Labels.index_select(0, indices);
        var y = where(drop, full_like(indices, nullClass), labels);
        var output = RunOnModuleDevice(module, xt, t, y);
        var eps = output.narrow(1, 0, latentChannels);
        var loss = DiffusionLoss.Epsilon(eps, noise) + (learnSigma ? DiffusionLoss.LearnedRangeVb(schedule, x0, xt, t, output) : zeros(1).sum());
        return (loss, x0, xt, t, eps, labels);
    }

    /// <summary>Trains (or fine-tunes, like <see cref="TrainDit"/>) a text UNet.</summary>
    /// <param name="name">Stage name: the checkpoint folder (WORK_DIR/NAME/) and the EMA weights written at the end (WORK_DIR/NAME.onnx).</param>
    /// <param name="build">The model to start from when there is no checkpoint yet (a checkpoint takes precedence, to resume).</param>
    /// <param name="import">Which initializers train (all by default).</param>
    /// <param name="scheduleOptions">The noise schedule timesteps and noise are drawn on.</param>
    /// <param name="data">Latent training set; its labels index the rows of <paramref name="classContexts"/>.</param>
    /// <param name="classContexts">Text encoder token embeddings of each class prompt (K, L, D).</param>
    /// <param name="nullContext">Embeddings of the empty prompt (1, L, D), the unconditional branch.</param>
    /// <param name="o">Steps, batch size, AdamW settings, condition dropout, EMA decay and checkpoint interval.</param>
    /// <param name="seed">Seed of the batch order and each step's draws (timesteps, noise, condition dropout).</param>
    /// <param name="workDir">Folder of the checkpoint and of the written model.</param>
    /// <param name="progress">Told each step: stage, steps done of total, the loss.</param>
    /// <param name="cancellationToken">Checked before each step.</param>
    /// <param name="device">Where the model, its optimizer and EMA live (null: the CPU); the draws stay on the CPU.</param>
    public static DenoiserTrainingResult TrainUNet(string name, Func<OnnxModel> build, ImportOptions import, NoiseScheduleOptions scheduleOptions, LatentSet data,
        Tensor classContexts, Tensor nullContext, DenoiserTrainingOptions o, int seed, string workDir, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default,
        Device? device = null)
    {
        var schedule = NoiseSchedule.Create(scheduleOptions);
        var contexts = cat(new[] { classContexts, nullContext }, 0);
        long nullIndex = classContexts.shape[0];
        return Train(name, build, import, o, seed, workDir, data, progress, cancellationToken, device, (module, step, sampler, indices) =>
        {
            var (_, t, noise, xt, drop) = Draw(schedule, data, sampler, step, indices, o.ConditionDropout);
            var which = where(drop, full_like(indices, nullIndex), data.Labels.index_select(0, indices));
            var context = contexts.index_select(0, which);
            return DiffusionLoss.Epsilon(RunOnModuleDevice(module, xt, t, context), noise);
        });
    }

    /// <summary>
    /// One step's draws, all from the step's own generator in this order: x₀ ~ the latent set's posterior, timesteps t,
    /// noise ε, x_t = q(x_t | x₀, ε), and which conditions drop out (true: use the null condition).
    /// </summary>
    static (Tensor X0, Tensor T, Tensor Noise, Tensor Xt, Tensor Drop) Draw(NoiseSchedule schedule, LatentSet data, EpochSampler sampler, long step,
        Tensor indices, double conditionDropout)
    {
        var gen = sampler.StepGenerator(step);
        var x0 = data.Sample(indices, gen);
        long n = x0.shape[0];
        var t = randint(0, schedule.Length, new[] { n }, generator: gen);
        var noise = randn(x0.shape, generator: gen);
        var xt = schedule.AddNoise(x0, noise, t);
        var drop = rand(new[] { n }, generator: gen).lt(conditionDropout);
        return (x0, t, noise, xt, drop);
    }

    /// <summary>
    /// The network's output for inputs drawn on the CPU: it runs on the module's device and its output comes back to the CPU,
    /// where the losses, the schedule and the Minimax memories are (a no-op for a CPU module).
    /// </summary>
    static Tensor RunOnModuleDevice(OnnxTorchModule module, Tensor xt, Tensor t, Tensor condition)
    {
        var device = module.parameters().First().device;
        return module.Run(xt.to(device), t.to(device), condition.to(device))[0].to(CPU);
    }

    static DenoiserTrainingResult Train(string name, Func<OnnxModel> build, ImportOptions import, DenoiserTrainingOptions o, int seed, string workDir, LatentSet data,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken, Device? device, Func<OnnxTorchModule, long, EpochSampler, Tensor, Tensor> loss,
        ICheckpointedState? state = null)
    {
        var clock = Stopwatch.StartNew();
        var checkpoint = new TrainingCheckpoint(Path.Combine(workDir, name));
        using var module = OnnxTorchModule.FromModel(checkpoint.ModelOr("model", build), import);
        if (!module.TrainableParameters.Any())
            throw new UserInputException($"Denoiser '{name}' has no trainable parameters under the fine-tune pattern {import.Trainable}; expected at least one initializer name to match.");
        using var ema = OnnxTorchModule.FromModel(checkpoint.ModelOr("ema", build), new ImportOptions(Trainable: new Regex("(?!)")));
        // Parameters are replaced by the move, so it comes before anything holds them (optimizer, EMA pairs).
        if (device is not null)
        {
            module.to(device);
            ema.to(device);
        }
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
                double decay = o.EmaWarmup ? Math.Min(o.EmaDecay, (1.0 + step) / (10.0 + step)) : o.EmaDecay;
                using var _ = no_grad();
                foreach (var (pname, p) in trainable) emaParameters[pname].mul_(decay).add_(p, alpha: 1 - decay);
            },
            state: state, progress: progress, cancellationToken: cancellationToken);

        string path = Path.Combine(workDir, name + ".onnx");
        ema.Save(path);
        return new DenoiserTrainingResult(path, losses, clock.Elapsed.TotalSeconds);
    }
}
