using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Pretraining;

/// <summary>
/// Everything `evlf pretrain` trains, with the default bundle's sizes. The step counts are chosen so the
/// whole run fits the 90-minute budget on a 2-core CPU (see README, "The default bundle").
/// </summary>
public sealed record PretrainOptions
{
    public int Seed { get; init; }
    public string Name { get; init; } = "fmnist-ldm";
    public int ImageSize { get; init; } = 32;
    public KlVaeConfig Vae { get; init; } = new(Channels: new[] { 16, 32, 64 });
    public VaeStageOptions VaeTraining { get; init; } = new(Epochs: 3, BatchSize: 64);
    public TextUNetConfig UNet { get; init; } = new(Channels: new[] { 32, 64 }, Heads: 4);
    public DenoiserTrainingOptions UNetTraining { get; init; } = new(Steps: 2000);
    public ClassDitConfig Dit { get; init; } = new(Hidden: 128, Depth: 4, Heads: 4);
    /// <summary>8000 steps: the first run of the committed bundle, whose DiT then trained 8000 more steps at 1e-4 (<see cref="From"/>; docs/PRETRAINING.md); its class fidelity was 46.3% at 2000 steps, 88.6% at 6000 and 97.0% at 8000.</summary>
    public DenoiserTrainingOptions DitTraining { get; init; } = new(Steps: 8000);
    /// <summary>Tokens of MiniLM context the UNet cross-attends to (prompts are short).</summary>
    public int TextMaxLength { get; init; } = 16;
    public string PromptTemplate { get; init; } = "a photo of a {class}";
    /// <summary>
    /// A bundle folder to continue from (null: train from scratch). Its VAE is kept (its test PSNR is measured again), its
    /// encoder always and its decoder unless <see cref="VaeDecoder"/> has steps; its text UNet and class DiT start from its
    /// weights and train for <see cref="UNetTraining"/> and <see cref="DitTraining"/> steps, where 0 steps copies that
    /// denoiser unchanged. The bundle must be one this pretraining writes: a single-channel VAE, an <c>unet</c> text UNet and
    /// a <c>dit</c> class DiT, for the dataset's classes.
    /// </summary>
    public string? From { get; init; }
    /// <summary>
    /// With <see cref="From"/>: how the kept VAE's decoder trains further (its encoder, and so the latents, the scaling factor
    /// and the denoisers' data, stay as they are); 0 steps, the default, keeps the decoder too.
    /// </summary>
    public VaeDecoderOptions VaeDecoder { get; init; } = new();
    /// <summary>Where the VAE, the denoisers and the fidelity judge train (<see cref="ComputeDevice"/>): auto takes CUDA when libtorch sees a GPU.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;

    /// <summary>The name errors give an option of these settings, e.g. "PretrainOptions.Device".</summary>
    public static string OptionName(string property) => $"{nameof(PretrainOptions)}.{property}";
}
