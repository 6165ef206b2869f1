using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Pretraining;

/// <summary>
/// Trains the default bundle's denoisers from scratch (<see cref="DenoiserTraining"/>): the text UNet on a
/// scaled-linear schedule, like Stable Diffusion, and the class DiT (ε-MSE + VB) on a linear schedule, like DiT; or
/// continues a bundle's (<see cref="PretrainOptions.From"/>): every weight trains, from the bundle's, on the bundle's schedule.
/// </summary>
public static class DenoiserStage
{
    /// <summary>The class DiT built from <paramref name="config"/>; the rest as <see cref="DenoiserTraining.TrainDit"/>.</summary>
    public static DenoiserTrainingResult TrainDit(ClassDitConfig config, LatentSet data, DenoiserTrainingOptions o, int seed, string workDir,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null) =>
        DenoiserTraining.TrainDit("dit", () => ClassDit.Build(config, seed), ImportOptions.Default, NoiseScheduleOptions.DiT, config.LatentChannels, config.NullClass, config.LearnSigma,
            data, o, seed, workDir, progress, cancellationToken, device);

    /// <summary>
    /// The text UNet built from <paramref name="config"/> (a checkpoint in <paramref name="workDir"/> takes precedence, to resume),
    /// its initial weights drawn from <paramref name="seed"/>; the rest as <see cref="DenoiserTraining.TrainUNet"/>.
    /// </summary>
    public static DenoiserTrainingResult TrainUNet(TextUNetConfig config, LatentSet data, Tensor classContexts, Tensor nullContext, DenoiserTrainingOptions o,
        int seed, string workDir, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null) =>
        DenoiserTraining.TrainUNet("unet", () => TextUNet.Build(config, seed), ImportOptions.Default, NoiseScheduleOptions.StableDiffusion, data, classContexts, nullContext, o, seed, workDir, progress, cancellationToken, device);

    /// <summary>
    /// The class DiT <c>dit</c> of <paramref name="from"/> trained further for <paramref name="o"/>'s steps, every weight from the
    /// bundle's; 0 steps gives the bundle's file unchanged (a checkpoint in <paramref name="workDir"/> resumes, as for training).
    /// </summary>
    public static DenoiserTrainingResult ContinueDit(ModelBundle from, LatentSet data, DenoiserTrainingOptions o, int seed, string workDir,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        var spec = from.Denoiser("dit");
        string file = from.PathOf(spec.File);
        return o.Steps == 0 ? Unchanged(file)
            : DenoiserTraining.TrainDit("dit", () => OnnxModel.Load(file), ImportOptions.Default, BundleRuntime.ToOptions(spec.Schedule),
                from.Manifest.Latent.Channels, spec.NullClass!.Value, spec.LearnedSigma, data, o, seed, workDir, progress, cancellationToken, device);
    }

    /// <summary>The text UNet <c>unet</c> of <paramref name="from"/> trained further, as <see cref="ContinueDit"/>.</summary>
    public static DenoiserTrainingResult ContinueUNet(ModelBundle from, LatentSet data, Tensor classContexts, Tensor nullContext, DenoiserTrainingOptions o,
        int seed, string workDir, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        var spec = from.Denoiser("unet");
        string file = from.PathOf(spec.File);
        return o.Steps == 0 ? Unchanged(file)
            : DenoiserTraining.TrainUNet("unet", () => OnnxModel.Load(file), ImportOptions.Default, BundleRuntime.ToOptions(spec.Schedule), data,
                classContexts, nullContext, o, seed, workDir, progress, cancellationToken, device);
    }

    static DenoiserTrainingResult Unchanged(string file) => new(file, [], 0);
}
