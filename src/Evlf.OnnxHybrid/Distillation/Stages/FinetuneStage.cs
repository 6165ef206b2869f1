using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// <see cref="DistillOptions.Finetune"/>: trains the denoiser's weights that match its finetune pattern on the latents the modes cluster (zImg or
/// zFused, scaled) with the standard diffusion loss, through the importer (the paper's D4M+EVLF, §4.3), and writes a new
/// bundle: the same files and manifest with the fine-tuned denoiser.
/// </summary>
internal static class FinetuneStage
{
    /// <summary>The fine-tuned bundle, in the stage folder's <c>bundle/</c>.</summary>
    public static ModelBundle Run(StageContext context, ModelBundle bundle, string denoiser, BundleRuntime runtime, ClusterInput input, Tensor labels)
    {
        var options = context.Options;
        var spec = bundle.Denoiser(denoiser);
        string key = RunFolder.Key(new
        {
            stage = StageNames.Finetune, upstreamKey = input.Key, denoiser, bundle = RunFolder.FileHash(bundle.PathOf(spec.File)),
            options.FinetuneSteps, options.FinetuneLearningRate, options.Seed,
        });
        string folder = context.Run.Stage(StageNames.Finetune, key, (tmp, work) =>
        {
            var scaled = input.Latents * bundle.Manifest.Latent.ScalingFactor;
            var data = new LatentSet(scaled, zeros_like(scaled), labels);
            var stageOptions = new DenoiserTrainingOptions(Steps: options.FinetuneSteps, BatchSize: 32, LearningRate: options.FinetuneLearningRate,
                EmaDecay: 0.99, CheckpointEvery: 100);
            var import = new ImportOptions(new Regex(spec.FinetunePattern!));
            var schedule = BundleRuntime.ToOptions(spec.Schedule);
            Func<OnnxModel> load = () => OnnxModel.Load(bundle.PathOf(spec.File));
            DenoiserTrainingResult result;
            if (spec.Kind == DenoiserSpec.DitClass)
                result = DenoiserTraining.TrainDit(denoiser, load, import, schedule, bundle.Manifest.Latent.Channels, spec.NullClass!.Value, spec.LearnedSigma,
                    data, stageOptions, options.Seed, work, context.TrainingSteps(), context.CancellationToken, context.TrainingDevice);
            else
            {
                var prompts = Enumerable.Range(0, bundle.Manifest.Classes.Count).Select(bundle.Manifest.Prompt).ToList();
                using var classText = runtime.TextEncoder.Encode(prompts);
                using var empty = runtime.TextEncoder.Encode(new[] { "" });
                result = DenoiserTraining.TrainUNet(denoiser, load, import, schedule, data, classText.Tokens, empty.Tokens, stageOptions, options.Seed, work,
                    context.TrainingSteps(), context.CancellationToken, context.TrainingDevice);
            }
            string bundleFolder = Path.Combine(tmp, "bundle");
            CopyBundleFiles(bundle.Directory, bundleFolder);
            File.Copy(result.ModelPath, Path.Combine(bundleFolder, spec.File), overwrite: true);
        });
        return ModelBundle.Load(Path.Combine(folder, "bundle"));
    }

    /// <summary>
    /// Copies the bundle's regular files, and links only where they stay inside the bundle: a FIFO would block, a link out
    /// would leak.
    /// </summary>
    internal static void CopyBundleFiles(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            var name = Path.GetFileName(file);
            if (!PathStatus.Of(file).IsRegular || ConfinedPath.TryResolve(source, name, out _) is not string resolved) continue;
            File.Copy(resolved, Path.Combine(target, name));
        }
    }
}
