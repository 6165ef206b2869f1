using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Text;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>How to sample from a bundle's denoiser.</summary>
/// <param name="Steps">Respaced steps (DiT: IDDPM spacing, ancestral DDPM; UNet: DDIM, leading spacing with offset 1 as SD).</param>
/// <param name="Cfg">Classifier-free guidance scale; 1 = conditional only.</param>
/// <param name="DitGuidanceChannels">DiT's behaviour: guide only ε channels 0–2 (docs/PIPELINES.md §1). On by default for dit-class.</param>
/// <param name="Eta">DDIM η for the UNet.</param>
/// <param name="GuidedTimestep">Whether the step at a model timestep is guided (null: every step); see <see cref="SamplingLoopOptions"/>.</param>
public sealed record SampleOptions(int Steps = 50, double Cfg = 4.0, bool DitGuidanceChannels = true, double Eta = 0.0, Predicate<int>? GuidedTimestep = null);

/// <summary>
/// A bundle's frozen components at run time (ONNX Runtime sessions, opened once): VAE encode/decode, the
/// text encoder, and one denoiser driven by the C# sampler — with optional mode guidance (MGD3) or an
/// img2img start (D4M). Latents it returns are already multiplied by the bundle's scaling factor.
/// </summary>
public sealed class BundleRuntime : IDisposable
{
    readonly ModelBundle bundle;
    readonly SessionSettings settings;
    OnnxSession? encoder, decoder;
    readonly Dictionary<string, OnnxSession> denoisers = new();
    TextEncoder? textEncoder;

    public BundleRuntime(ModelBundle bundle, SessionSettings? settings = null)
    {
        TorchSharpLoader.Ensure();
        this.bundle = bundle;
        this.settings = settings ?? SessionSettings.Default;
    }

    public ModelBundle Bundle => bundle;
    BundleManifest M => bundle.Manifest;

    OnnxSession Encoder => encoder ??= bundle.OpenVaeEncoder(settings);
    OnnxSession Decoder => decoder ??= bundle.OpenVaeDecoder(settings);
    public TextEncoder TextEncoder => textEncoder ??= bundle.OpenTextEncoder(settings);

    OnnxSession Denoiser(string name)
    {
        if (!denoisers.TryGetValue(name, out var s)) denoisers[name] = s = bundle.OpenDenoiser(name, settings);
        return s;
    }

    /// <summary>VAE posterior (mean, log-variance) of images in [−1, 1], unscaled, in batches.</summary>
    public (Tensor Mean, Tensor LogVar) Encode(Tensor images, int batch = 256)
    {
        var means = new List<Tensor>();
        var logVars = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batch)
        {
            var x = images.narrow(0, start, Math.Min(batch, images.shape[0] - start));
            var r = Encoder.Run(new Dictionary<string, Tensor> { [M.Vae.EncoderInput] = x });
            means.Add(r[M.Vae.MeanOutput]);
            logVars.Add(r[M.Vae.LogVarOutput]);
        }
        return (cat(means, 0), cat(logVars, 0));
    }

    /// <summary>Scaled latents → images in [−1, 1].</summary>
    public Tensor Decode(Tensor scaledLatents, int batch = 256)
    {
        var parts = new List<Tensor>();
        for (long start = 0; start < scaledLatents.shape[0]; start += batch)
        {
            using var scope = NewDisposeScope();
            var z = scaledLatents.narrow(0, start, Math.Min(batch, scaledLatents.shape[0] - start)) / M.Latent.ScalingFactor;
            parts.Add(Decoder.Run(new Dictionary<string, Tensor> { [M.Vae.DecoderInput] = z })[M.Vae.DecoderOutput].MoveToOuterDisposeScope());
        }
        return cat(parts, 0);
    }

    /// <summary>The sampler a denoiser kind uses (see <see cref="SampleOptions"/>).</summary>
    public Sampler SamplerFor(DenoiserSpec d, SampleOptions o) => CreateSampler(d, o);

    /// <summary>
    /// Checks before any work that denoiser <paramref name="name"/> of <paramref name="bundle"/> can be sampled with
    /// <paramref name="o"/> (its steps respaced from the schedule it was trained with, its guidance scale, an img2img
    /// <paramref name="strength"/> that leaves at least one step); a <see cref="UserInputException"/> names the problem.
    /// </summary>
    public static void CheckSampling(ModelBundle bundle, string name, SampleOptions o, double? strength = null)
    {
        var d = bundle.Denoiser(name);
        static string Option(string property) => $"{nameof(SampleOptions)}.{property}";
        if (!(o.Cfg >= 1 && double.IsFinite(o.Cfg)))
            throw UserInputException.ForOption(Option(nameof(o.Cfg)), FormattableString.Invariant($"must be a finite number of at least 1 (1 = no guidance); got {o.Cfg}."));
        if (o.Steps < 1 || o.Steps > d.MaxSamplingSteps)
            throw UserInputException.ForOption(Option(nameof(o.Steps)),
                $"{o.Steps} does not fit denoiser '{name}' of bundle '{bundle.Directory}', which was trained with {d.Schedule.Steps} timesteps; expected 1 to {d.MaxSamplingSteps}.");
        try
        {
            var sampler = CreateSampler(d, o);
            if (strength is double s) Img2ImgStart.Create(sampler.Schedule, s);
        }
        catch (ArgumentException e)
        {
            throw UserInputException.ForOption(Option(nameof(o.Steps)),
                $"{o.Steps}{(strength is double st ? FormattableString.Invariant($" with img2img strength {st}") : "")} cannot be sampled with denoiser '{name}' of bundle '{bundle.Directory}': {e.Message.Split(" (Parameter")[0].TrimEnd('.')}.", e);
        }
    }

    static Sampler CreateSampler(DenoiserSpec d, SampleOptions o)
    {
        var baseSchedule = NoiseSchedule.Create(ToOptions(d.Schedule));
        return d.Kind == DenoiserSpec.DitClass
            ? new DdpmSampler(SpacedSchedule.FromSections(baseSchedule, o.Steps.ToString()), new DdpmOptions(d.LearnedSigma ? VarianceType.LearnedRange : VarianceType.FixedSmall))
            : new DdimSampler(SpacedSchedule.ForInference(baseSchedule, o.Steps, TimestepSpacingKind.Leading, 1), DdimOptions.StableDiffusion with { Eta = o.Eta });
    }

    public static NoiseScheduleOptions ToOptions(ScheduleSpec s) =>
        new(s.Kind == "scaled-linear" ? BetaScheduleKind.ScaledLinear : BetaScheduleKind.Linear, s.BetaStart, s.BetaEnd, s.Steps);

    /// <summary>
    /// Samples <paramref name="n"/> latents of one class. <paramref name="modes"/> (n, C·H·W) turns on MGD3 mode
    /// guidance with <paramref name="modeGuidance"/>; <paramref name="start"/> (n, C, H, W, scaled) with a strength
    /// starts from those latents noised to that strength (img2img); <paramref name="negativePrompt"/> replaces the
    /// empty prompt of a text UNet's unconditional branch. Deterministic for a generator.
    /// </summary>
    public Tensor Sample(string denoiserName, int classIndex, int n, SampleOptions o, Generator generator,
        Tensor? modes = null, ModeGuidanceOptions? modeGuidance = null, Tensor? start = null, double strength = 1.0,
        string? negativePrompt = null, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var d = bundle.Denoiser(denoiserName);
        var session = Denoiser(denoiserName);
        var sampler = SamplerFor(d, o);
        var guidance = o.Cfg == 1.0 ? null : new GuidanceOptions(o.Cfg, d.Kind == DenoiserSpec.DitClass && o.DitGuidanceChannels && d.LearnedSigma ? 3 : null);
        var loop = new SamplingLoop(sampler, new SamplingLoopOptions(guidance, modes is null ? null : modeGuidance ?? new ModeGuidanceOptions(), o.GuidedTimestep));

        Tensor condition, nullCondition;
        if (d.Kind == DenoiserSpec.DitClass)
        {
            condition = full(new long[] { n }, (long)classIndex, dtype: ScalarType.Int64);
            nullCondition = full(new long[] { n }, (long)d.NullClass!.Value, dtype: ScalarType.Int64);
        }
        else
        {
            using var prompt = TextEncoder.Encode(new[] { M.Prompt(classIndex) });
            // The unconditional branch: the empty prompt the UNet was trained with, or a negative prompt (D4M).
            using var empty = TextEncoder.Encode(new[] { negativePrompt ?? "" });
            condition = prompt.Tokens.expand(n, -1, -1).contiguous();
            nullCondition = empty.Tokens.expand(n, -1, -1).contiguous();
        }

        var shape = new long[] { n, M.Latent.Channels, M.Latent.Size, M.Latent.Size };
        var noise = randn(shape, generator: generator);
        var inputs = new SamplingInputs(noise) { Condition = condition, NullCondition = nullCondition, Modes = modes };
        if (start is not null)
        {
            var img2img = Img2ImgStart.Create(sampler.Schedule, strength);
            inputs = inputs with { XStart = img2img.Noise(start, noise), StartIndex = img2img.Index };
        }

        // The latents live where the denoiser runs when libtorch can hold them there (CUDA provider and a CUDA libtorch):
        // ONNX Runtime then reads x, t and c and writes ε in GPU memory (IOBinding) and the sampler's math runs there too,
        // so nothing crosses to the host between steps. Start noise and step noise are drawn on the CPU and moved, so the
        // draws are the same on either device. On the CPU every .to below is the tensor itself.
        var latentDevice = LatentDevice(session);
        inputs = inputs with
        {
            XStart = inputs.XStart.to(latentDevice),
            Condition = condition.to(latentDevice),
            NullCondition = nullCondition.to(latentDevice),
            Modes = modes?.to(latentDevice),
        };

        Tensor Denoise(Tensor x, Tensor t, Tensor? c) =>
            session.RunOnDevice(new Dictionary<string, Tensor> { [d.SampleInput] = x, [d.TimestepInput] = t, [d.ConditionInput] = c! }, new[] { d.Output })[d.Output].to(latentDevice);

        var latents = loop.Run(Denoise, inputs, generator, progress, cancellationToken);
        return latents.device_type == TorchSharp.DeviceType.CPU ? latents : latents.cpu();
    }

    /// <summary>Where a sampling run keeps its latents: the session's GPU when ONNX Runtime runs there and libtorch has CUDA, else the CPU.</summary>
    Device LatentDevice(OnnxSession session) =>
        session.Device == ExecutionDevice.Cuda && cuda.is_available() ? new Device(TorchSharp.DeviceType.CUDA, settings.CudaDeviceId) : CPU;

    /// <summary>Images per sampling call in <see cref="Generate"/>: for n ≥ <see cref="GenerateCall"/>, a class's first <see cref="GenerateCall"/> images are the same whatever n.</summary>
    public const int GenerateCall = 100;

    /// <summary>
    /// Plain class-conditional generation in one call: <paramref name="n"/> images of class <paramref name="classIndex"/>,
    /// sampled with <paramref name="o"/> and decoded, in memory (<see cref="GeneratedImages.Save"/> writes them). One
    /// generator per class seeded from <paramref name="seed"/> (a class's images do not depend on the other classes),
    /// in calls of at most <see cref="GenerateCall"/> images; `evlf sample` makes the same images.
    /// </summary>
    public GeneratedImages Generate(string denoiserName, int classIndex, int n, SampleOptions o, int seed = 0,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new(M.Classes[CheckClass(classIndex)], ClassFolderNames.Assign(M.Classes)[classIndex],
            GenerateEach(denoiserName, classIndex, n, o, seed, progress, cancellationToken).ToList());

    /// <summary>
    /// <see cref="Generate"/>'s images one call of <see cref="GenerateCall"/> at a time, so a large <paramref name="n"/>
    /// holds no more than one call's images in memory (the same images, in the same order). The arguments are checked
    /// at once, not when enumeration starts.
    /// </summary>
    public IEnumerable<ByteImage> GenerateEach(string denoiserName, int classIndex, int n, SampleOptions o, int seed = 0,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckClass(classIndex);
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "Generate at least one image.");
        CheckSampling(bundle, denoiserName, o);
        return Calls();

        IEnumerable<ByteImage> Calls()
        {
            using var generator = new Generator(Seeds.Derive(seed, SeedStream.ClassSampling, classIndex));
            for (int done = 0; done < n; done += GenerateCall)
            {
                int count = Math.Min(GenerateCall, n - done);
                string task = n > GenerateCall ? $"{M.Classes[classIndex]} {done + count}/{n}" : M.Classes[classIndex];
                var images = new ByteImage[count];
                // The call's tensors are freed before its images are handed out: no dispose scope spans a yield.
                using (NewDisposeScope())
                {
                    var latents = Sample(denoiserName, classIndex, count, o, generator,
                        progress: progress.Renamed(task),
                        cancellationToken: cancellationToken);
                    var decoded = Decode(latents);
                    for (int k = 0; k < count; k++) images[k] = BundleImages.ToByteImage(decoded[k]);
                }
                progress?.Report(new(task, o.Steps, o.Steps));
                foreach (var image in images) yield return image;
            }
        }
    }

    int CheckClass(int classIndex) => classIndex >= 0 && classIndex < M.Classes.Count ? classIndex
        : throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"The bundle has {M.Classes.Count} classes.");

    public void Dispose()
    {
        encoder?.Dispose();
        decoder?.Dispose();
        foreach (var s in denoisers.Values) s.Dispose();
        textEncoder?.Dispose();
    }
}
