using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Method minimax: fine-tunes the bundle's class DiT with MinimaxDiffusion's objective (<see cref="DenoiserTraining.FinetuneMinimaxDit"/>)
/// on the training latents — zImg drawn from the VAE posterior (mean + σ·ε, each image in its modes view) as released, or
/// the fused latents zFused with EVLF — training the weights of the denoiser's finetune pattern (the DiffFit set of the
/// default bundle: biases, norms, gammas, the label table), and writes a new bundle with the fine-tuned denoiser, which
/// the sample stage then samples plainly.
/// </summary>
internal static class MinimaxStage
{
    /// <summary>The fine-tuned bundle, in the stage folder's <c>bundle/</c>.</summary>
    /// <param name="context">The run's options, data, folder and progress.</param>
    /// <param name="bundle">The bundle whose denoiser is fine-tuned.</param>
    /// <param name="denoiser">That denoiser's name in the bundle.</param>
    /// <param name="input">What the modes cluster: zImg, or zFused with EVLF (unscaled).</param>
    /// <param name="latents">The encoded latents the posterior σ comes from when <paramref name="input"/> is zImg.</param>
    public static ModelBundle Run(StageContext context, ModelBundle bundle, string denoiser, ClusterInput input, ModeLatents latents)
    {
        var options = context.Options;
        var spec = bundle.Denoiser(denoiser);
        bool fused = options.UsesFusion;
        string key = RunFolder.Key(new
        {
            stage = StageNames.Minimax, upstreamKey = input.Key, denoiser, bundle = RunFolder.FileHash(bundle.PathOf(spec.File)),
            minimax = options.Minimax, options.Seed, posterior = !fused,
        });
        string folder = context.Run.Stage(StageNames.Minimax, key, (tmp, work) =>
        {
            double scale = bundle.Manifest.Latent.ScalingFactor;
            var means = input.Latents * scale;
            // The released fine-tune encodes each batch afresh and trains on a posterior sample; fused latents have no σ.
            var stds = fused ? zeros_like(means) : PosteriorStd(latents) * scale;
            var data = new LatentSet(means, stds, latents.Labels);
            var result = DenoiserTraining.FinetuneMinimaxDit(denoiser, () => OnnxModel.Load(bundle.PathOf(spec.File)),
                new ImportOptions(new Regex(spec.FinetunePattern!)), BundleRuntime.ToOptions(spec.Schedule), bundle.Manifest.Latent.Channels,
                spec.NullClass!.Value, spec.LearnedSigma, bundle.Manifest.Classes.Count, data, options.Minimax, options.Seed, work,
                context.TrainingSteps(), context.CancellationToken, context.TrainingDevice);
            string bundleFolder = Path.Combine(tmp, "bundle");
            FinetuneStage.CopyBundleFiles(bundle.Directory, bundleFolder);
            File.Copy(result.ModelPath, Path.Combine(bundleFolder, spec.File), overwrite: true);
        });
        return ModelBundle.Load(Path.Combine(folder, "bundle"));
    }

    /// <summary>σ = exp(½·log σ²) of each image's posterior, in the view its flip coin picked (the view zImg holds).</summary>
    static Tensor PosteriorStd(ModeLatents latents) =>
        where(latents.FlipMask, StageTensors.Load(latents.Encoded.Folder, "logvar_flip"), StageTensors.Load(latents.Encoded.Folder, "logvar")).mul(0.5).exp();
}
