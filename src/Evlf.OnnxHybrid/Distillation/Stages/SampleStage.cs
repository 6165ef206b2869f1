using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Stage: ipc images per class from the denoiser (ONNX Runtime with the C# samplers), decoded by the VAE and written as
/// the synthetic set. mgd3 guides plain sampling towards the modes, d4m runs img2img from the prototypes with the class
/// prompt and a negative prompt, dit samples plainly. Each class draws from its own seeded stream
/// (<see cref="SeedStream.ClassSampling"/>), so a class's images do not depend on the others.
/// </summary>
internal static class SampleStage
{
    /// <summary>The stage folder's subfolder that holds the set (<see cref="SyntheticSetWriter"/>), for this stage and <see cref="SelectStage"/>.</summary>
    public const string SetFolder = "set";

    /// <summary>
    /// Samples from <paramref name="bundle"/> (the run's, or the fine-tuned one); <paramref name="bundleKey"/> identifies the
    /// run's bundle files before any fine-tuning. Returns the stage folder; the set is in its <see cref="SetFolder"/>.
    /// </summary>
    public static string Run(StageContext context, ModelBundle bundle, string denoiser, Modes modes, string bundleKey)
    {
        var options = context.Options;
        string key = RunFolder.Key(new
        {
            stage = StageNames.Sample, modesKey = modes.Key, bundleKey, finetune = options.Finetune, options.Ipc, options.Seed, options.Steps,
            cfg = options.GuidanceScale, options.ModeGuidanceLambda, options.ModeGuidanceStopT, options.Strength, options.NegativePrompt,
            method = options.Method.ToString(), options.DitGuidanceChannels,
        });
        return context.Run.Stage(StageNames.Sample, key, tmp =>
        {
            var m = bundle.Manifest;
            using var sampler = new BundleRuntime(bundle, context.Settings);
            using var writer = SyntheticSetWriter.Create(Path.Combine(tmp, SetFolder), m.Classes, m.Image.Channels);
            var sampling = new SampleOptions(options.Steps, options.GuidanceScale, options.DitGuidanceChannels);
            for (int c = 0; c < m.Classes.Count; c++)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                using var classScope = NewDisposeScope();
                var generator = new Generator(Seeds.Derive(options.Seed, SeedStream.ClassSampling, c));
                var classModes = modes.Vectors[c];
                string task = $"sample {m.Classes[c]}";
                var stepProgress = new InlineProgress<int>(i => context.Report(task, options.Steps - i, options.Steps));
                var latents = options.Method switch
                {
                    DistillMethod.Mgd3 => sampler.Sample(denoiser, c, options.Ipc, sampling, generator, modes: classModes,
                        modeGuidance: new ModeGuidanceOptions(options.ModeGuidanceLambda, options.ModeGuidanceStopT),
                        progress: stepProgress, cancellationToken: context.CancellationToken),
                    DistillMethod.D4m => sampler.Sample(denoiser, c, options.Ipc, sampling, generator,
                        start: classModes.reshape(options.Ipc, m.Latent.Channels, m.Latent.Size, m.Latent.Size), strength: options.Strength,
                        negativePrompt: options.NegativePrompt, progress: stepProgress, cancellationToken: context.CancellationToken),
                    _ => sampler.Sample(denoiser, c, options.Ipc, sampling, generator, progress: stepProgress, cancellationToken: context.CancellationToken),
                };
                var images = sampler.Decode(latents);
                for (int k = 0; k < options.Ipc; k++) writer.Add(c, BundleImages.ToByteImage(images[k]));
                context.Report(task, options.Steps, options.Steps);
            }
            writer.Commit();
        });
    }
}
