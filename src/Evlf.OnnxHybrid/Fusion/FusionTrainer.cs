using System.Diagnostics;
using System.Text.Json;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Fusion;

/// <summary>The training set of stage A: VAE posterior means (unscaled), labels, and per-class text.</summary>
/// <param name="Latents">Posterior means z of the training images (N, C, H, W), unscaled.</param>
/// <param name="Labels">Class index of each sample (N), indexing the rows of the class tensors.</param>
/// <param name="ClassTokens">Token embeddings of each class prompt (K, L, D) — the fusion module's text input.</param>
/// <param name="ClassVectors">Pooled class vectors (K, D) — the InfoNCE targets.</param>
/// <param name="FlippedLatents">Latents of the horizontally flipped images: when given, each sample of each batch
/// is drawn flipped with probability ½ (the released data loader's random flip).</param>
public sealed record FusionData(Tensor Latents, Tensor Labels, Tensor ClassTokens, Tensor ClassVectors, Tensor? FlippedLatents = null);

/// <summary>One logged point of stage A: means over the optimizer steps since the last entry.</summary>
/// <param name="Step">The optimizer step the entry was logged at.</param>
/// <param name="Loss">λ1·InfoNCE + λ2·MSE.</param>
/// <param name="InfoNce">The InfoNCE term (Eq. 11).</param>
/// <param name="Mse">The reconstruction term (Eq. 9).</param>
/// <param name="Lambda2">λ2 at the entry's last micro-batch.</param>
/// <param name="Temperature">τ at the entry.</param>
/// <param name="InfoNceFloor">The mean of <see cref="FusionLosses.InfoNceFloor"/> over the same micro-batches: what InfoNCE
/// would be if the projected latents matched their class texts perfectly.</param>
public sealed record FusionLogEntry(long Step, double Loss, double InfoNce, double Mse, double Lambda2, double Temperature, double InfoNceFloor = double.NaN);

public sealed record FusionTrainingResult(string FusionPath, string ProjectorPath, IReadOnlyList<FusionLogEntry> Log, double Seconds);

/// <summary>
/// Trains the fusion module and projector through the importer (EVLF stage A) and writes fusion.onnx and
/// projector.onnx plus a JSON log. Checkpointed: a killed run resumes where it stopped. The networks train on the
/// device given (<see cref="ComputeDevice"/>; null: the CPU).
/// </summary>
public static class FusionTrainer
{
    public static FusionTrainingResult Train(FusionConfig config, FusionData data, FusionTrainingOptions o, int seed, string workDir,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(workDir);
        var checkpoint = new TrainingCheckpoint(Path.Combine(workDir, "fusion-training"));
        using var fusion = OnnxTorchModule.FromModel(checkpoint.ModelOr("fusion", () => CrossAttentionFusion.Build(config, seed)));
        using var projector = OnnxTorchModule.FromModel(checkpoint.ModelOr("projector", () => CrossAttentionFusion.BuildProjector(config, (int)Seeds.Derive(seed, SeedStream.ProjectorInit))));
        // The two networks train on the device; batches are drawn on the CPU and the losses computed there, so a CPU run is
        // unchanged and only latent-sized tensors cross (moved before the optimizer sees the parameters).
        var onDevice = device ?? CPU;
        if (device is not null)
        {
            fusion.to(device);
            projector.to(device);
        }
        // log(1/τ) as a module-free parameter: saved in the log, trained only with LearnTemperature.
        var logitScale = new TorchSharp.Modules.Parameter(tensor(Math.Log(1 / o.Temperature), dtype: ScalarType.Float32), requires_grad: o.LearnTemperature);
        string scalePath = Path.Combine(workDir, "logit_scale.json");
        if (checkpoint.Exists && File.Exists(scalePath))
            using (no_grad()) logitScale.fill_(JsonSerializer.Deserialize<double>(File.ReadAllText(scalePath)));

        using var optimizer = CreateOptimizer(fusion, projector, logitScale, o);

        long n = data.Latents.shape[0];
        Tensor pool = Pool(n, o, seed).DetachFromDisposeScope();
        var sampler = new EpochSampler(pool.shape[0], o.BatchSize, seed);
        long microPerEpoch = sampler.StepsPerEpoch;
        long steps = RequireOptimizerSteps(n, o);
        long rampMicroSteps = microPerEpoch * o.Epochs / 2;
        var log = new List<FusionLogEntry>();
        string logPath = Path.Combine(workDir, "fusion-log.json");
        if (checkpoint.Exists && File.Exists(logPath)) log.AddRange(JsonSerializer.Deserialize<List<FusionLogEntry>>(File.ReadAllText(logPath))!);

        var modules = new Dictionary<string, OnnxTorchModule> { ["fusion"] = fusion, ["projector"] = projector };
        using var dropoutGenerator = new Generator(0);
        fusion.RandomGenerator = projector.RandomGenerator = dropoutGenerator;
        double sumLoss = 0, sumNce = 0, sumMse = 0, sumFloor = 0;
        int count = 0;
        TrainingLoop.Run("fusion", checkpoint, modules, optimizer, steps, step =>
        {
            Tensor total = zeros(1).sum();
            double lambda2 = 0;
            for (int k = 0; k < o.Accumulation; k++)
            {
                long micro = step * o.Accumulation + k;
                // Dropout inside the graph draws from the module's generator, reseeded per micro-batch so a resumed run repeats exactly.
                dropoutGenerator.manual_seed(Seeds.DeriveLong(seed, SeedStream.FusionDropout, micro));
                var gen = sampler.StepGenerator(micro);
                var idx = pool.index_select(0, sampler.Indices(micro));
                var z = data.Latents.index_select(0, idx);
                if (data.FlippedLatents is { } flipped)
                    z = where(rand(new[] { idx.shape[0], 1L, 1L, 1L }, generator: gen).lt(0.5), flipped.index_select(0, idx), z);
                var labels = data.Labels.index_select(0, idx);
                var text = data.ClassTokens.index_select(0, labels);
                Tensor cond;
                if (rand(1, generator: gen).item<float>() < o.NullConditionProbability) cond = zeros_like(text);
                else
                {
                    var keep = rand(text.shape, generator: gen).ge(o.TokenDropout).to(text.dtype);
                    cond = text * keep / (1 - o.TokenDropout) + randn(text.shape, generator: gen) * o.ConditionNoise;
                }
                var fusedOnDevice = fusion.Run(z.to(onDevice), cond.to(onDevice))[0];
                var projected = projector.Run(fusedOnDevice)[0].to(CPU);
                var fused = fusedOnDevice.to(CPU);
                var nce = FusionLosses.InfoNce(projected, data.ClassVectors.index_select(0, labels), labels, logitScale);
                var mse = FusionLosses.Mse(fused, z);
                lambda2 = FusionLosses.Lambda2(micro, rampMicroSteps, o.Lambda2Start, o.Lambda2End);
                var loss = o.Lambda1 * nce + lambda2 * mse;
                total = total + loss / o.Accumulation;
                sumNce += nce.item<float>();
                sumMse += mse.item<float>();
                sumFloor += FusionLosses.InfoNceFloor(labels);
            }
            sumLoss += total.item<float>();
            count++;
            if ((step + 1) % o.CheckpointEvery == 0 || step + 1 == steps)
            {
                int micros = count * o.Accumulation;
                log.Add(new FusionLogEntry(step + 1, sumLoss / count, sumNce / micros, sumMse / micros, lambda2, 1 / Math.Exp(logitScale.item<float>()),
                    sumFloor / micros));
                sumLoss = sumNce = sumMse = sumFloor = 0;
                count = 0;
                WriteJson(logPath, log);
                WriteJson(scalePath, (double)logitScale.item<float>());
            }
            return total;
        }, o.CheckpointEvery, o.ClipGradNorm, progress: progress, cancellationToken: cancellationToken);

        fusion.eval();
        projector.eval();
        string fusionPath = Path.Combine(workDir, "fusion.onnx"), projectorPath = Path.Combine(workDir, "projector.onnx");
        fusion.Save(fusionPath);
        projector.Save(projectorPath);
        pool.Dispose();
        return new FusionTrainingResult(fusionPath, projectorPath, log, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The optimizer steps stage A takes on <paramref name="n"/> latents; a <see cref="UserInputException"/> when there would
    /// be none (a pool smaller than what one step accumulates), so a run can refuse before any work.
    /// </summary>
    public static long RequireOptimizerSteps(long n, FusionTrainingOptions o)
    {
        long pool = o.MaxSamples is int max && max < n ? max : n;
        long batch = Math.Min(o.BatchSize, pool);
        long microPerEpoch = batch > 0 ? pool / batch : 0;
        long steps = microPerEpoch * o.Epochs / o.Accumulation;
        if (steps < 1)
            throw UserInputException.ForOption(FusionTrainingOptions.OptionName(nameof(FusionTrainingOptions.MaxSamples)),
                $"leaves fusion training no optimizer step: {pool} samples make {microPerEpoch} batch(es) of {batch} per epoch × {o.Epochs} epoch(s), fewer than the {o.Accumulation} one step accumulates; expected more samples or epochs.");
        return steps;
    }

    /// <summary>
    /// The latents stage A trains on, as indices into <see cref="FusionData.Latents"/>: a seeded subset of
    /// <see cref="FusionTrainingOptions.MaxSamples"/> of the <paramref name="n"/> latents, or all of them. Each is drawn
    /// plain or flipped; no other latent is read.
    /// </summary>
    public static Tensor Pool(long n, FusionTrainingOptions o, int seed) => o.MaxSamples is int max && max < n
        ? randperm(n, generator: new Generator(Seeds.Derive(seed, SeedStream.FusionPool))).narrow(0, 0, max)
        : arange(n);

    /// <summary>
    /// AdamW with the released two groups: the fusion module at <see cref="FusionTrainingOptions.FusionLearningRate"/>,
    /// the projector (and log(1/τ) when <see cref="FusionTrainingOptions.LearnTemperature"/>) at
    /// <see cref="FusionTrainingOptions.ProjectorLearningRate"/>, both with <see cref="FusionTrainingOptions.WeightDecay"/>;
    /// betas and eps are AdamW's defaults.
    /// </summary>
    public static TorchSharp.Modules.AdamW CreateOptimizer(OnnxTorchModule fusion, OnnxTorchModule projector,
        TorchSharp.Modules.Parameter logitScale, FusionTrainingOptions o)
    {
        var groups = new List<TorchSharp.Modules.AdamW.ParamGroup>
        {
            new(fusion.TrainableParameters.Select(p => p.Parameter), lr: o.FusionLearningRate, weight_decay: o.WeightDecay),
            new(projector.TrainableParameters.Select(p => p.Parameter).Concat(o.LearnTemperature ? new[] { logitScale } : Array.Empty<TorchSharp.Modules.Parameter>()), lr: o.ProjectorLearningRate, weight_decay: o.WeightDecay),
        };
        return optim.AdamW(groups);
    }

    static void WriteJson<T>(string path, T value) => AtomicFile.WriteJson(path, value);
}
