using System.Text.Json;
using System.Text.Json.Serialization;
using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>Pixel space of a bundle's VAE: channels, square side, values in [−1, 1].</summary>
public sealed record ImageSpec
{
    [JsonPropertyName("channels")] public int Channels { get; init; }
    [JsonPropertyName("size")] public int Size { get; init; }
    [JsonPropertyName("range")] public float[] Range { get; init; } = { -1f, 1f };
}

/// <summary>Latent space: channels, side, and the factor latents are multiplied by before diffusion (SD: 0.18215).</summary>
public sealed record LatentSpec
{
    [JsonPropertyName("channels")] public int Channels { get; init; }
    [JsonPropertyName("size")] public int Size { get; init; }
    [JsonPropertyName("scaling_factor")] public double ScalingFactor { get; init; } = 1;
}

/// <summary>VAE files and their input/output names.</summary>
public sealed record VaeSpec
{
    [JsonPropertyName("encoder")] public string Encoder { get; init; } = "vae_encoder.onnx";
    [JsonPropertyName("decoder")] public string Decoder { get; init; } = "vae_decoder.onnx";
    [JsonPropertyName("encoder_input")] public string EncoderInput { get; init; } = KlVae.ImageInput;
    [JsonPropertyName("mean_output")] public string MeanOutput { get; init; } = KlVae.MeanOutput;
    [JsonPropertyName("logvar_output")] public string LogVarOutput { get; init; } = KlVae.LogVarOutput;
    [JsonPropertyName("decoder_input")] public string DecoderInput { get; init; } = KlVae.LatentInput;
    [JsonPropertyName("decoder_output")] public string DecoderOutput { get; init; } = KlVae.ImageOutput;
}

/// <summary>A 1000-step-style noise schedule: kind (linear | scaled-linear), β range, number of steps.</summary>
public sealed record ScheduleSpec
{
    [JsonPropertyName("kind")] public string Kind { get; init; } = "linear";
    [JsonPropertyName("beta_start")] public double BetaStart { get; init; } = 1e-4;
    [JsonPropertyName("beta_end")] public double BetaEnd { get; init; } = 0.02;
    /// <summary>
    /// Training timesteps T of the schedule; a sampler respaces them, so a run may take 1 to T sampling steps
    /// (<see cref="DenoiserSpec.MaxSamplingSteps"/>). A loaded bundle has 2 ≤ T ≤ <see cref="BundleManifest.MaxScheduleSteps"/>.
    /// </summary>
    [JsonPropertyName("steps")] public int Steps { get; init; } = 1000;

    public static ScheduleSpec Linear { get; } = new();
    public static ScheduleSpec ScaledLinear { get; } = new() { Kind = "scaled-linear", BetaStart = 0.00085, BetaEnd = 0.012 };
}

/// <summary>
/// One denoiser. <c>unet-text</c>: ε(z, t, context) with the text encoder's token embeddings as context;
/// <c>dit-class</c>: (ε, v)(z, t, y) with learned-range variance and a null class for guidance.
/// </summary>
public sealed record DenoiserSpec
{
    public const string UNetText = "unet-text";
    public const string DitClass = "dit-class";

    [JsonPropertyName("kind")] public string Kind { get; init; } = DitClass;
    [JsonPropertyName("file")] public string File { get; init; } = "dit.onnx";
    [JsonPropertyName("sample_input")] public string SampleInput { get; init; } = ClassDit.LatentInput;
    [JsonPropertyName("timestep_input")] public string TimestepInput { get; init; } = ClassDit.TimestepInput;
    /// <summary>Labels (dit-class) or text context (unet-text).</summary>
    [JsonPropertyName("condition_input")] public string ConditionInput { get; init; } = ClassDit.LabelInput;
    [JsonPropertyName("output")] public string Output { get; init; } = ClassDit.Output;
    [JsonPropertyName("learned_sigma")] public bool LearnedSigma { get; init; }
    [JsonPropertyName("null_class"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? NullClass { get; init; }
    [JsonPropertyName("schedule")] public ScheduleSpec Schedule { get; init; } = ScheduleSpec.Linear;

    /// <summary>
    /// The most sampling steps this denoiser can be run with: its schedule's training timesteps (respacing picks a
    /// subset of them, never more). Sampling checks the steps asked for (<see cref="SampleOptions.Steps"/>) against 1 … this value
    /// (<see cref="BundleRuntime.CheckSampling"/> does, with the message users see).
    /// </summary>
    [JsonIgnore] public int MaxSamplingSteps => Schedule.Steps;
    /// <summary>Regex of the initializers a fine-tune trains (DiffFit-style for DiT: biases, norms, gammas, label table).</summary>
    [JsonPropertyName("finetune"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FinetunePattern { get; init; }
}

/// <summary>The contents of <c>bundle.json</c> (docs/ARCHITECTURE.md, "Model bundles").</summary>
public sealed record BundleManifest
{
    public const string FileName = "bundle.json";
    public const string CurrentFormat = "evlf-bundle/1";

    [JsonPropertyName("format")] public string Format { get; init; } = CurrentFormat;
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("image")] public ImageSpec Image { get; init; } = new();
    [JsonPropertyName("latent")] public LatentSpec Latent { get; init; } = new();
    [JsonPropertyName("vae")] public VaeSpec Vae { get; init; } = new();
    [JsonPropertyName("text_encoder"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public TextEncoderConfig? TextEncoder { get; init; }
    [JsonPropertyName("denoisers")] public Dictionary<string, DenoiserSpec> Denoisers { get; init; } = new();
    /// <summary>Prompt for a class; <c>{class}</c> is replaced by the class's prompt name.</summary>
    [JsonPropertyName("prompt_template")] public string PromptTemplate { get; init; } = "{class}";
    [JsonPropertyName("classes")] public List<string> Classes { get; init; } = new();
    /// <summary>Class names as they read in a prompt (defaults to <see cref="Classes"/>).</summary>
    [JsonPropertyName("prompt_names"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? PromptNames { get; init; }

    /// <summary>
    /// How bundle.json is read and written. <c>RespectNullableAnnotations</c> turns a JSON <c>null</c> where the manifest
    /// needs a value ("image": null) into a parse error instead of a crash later; a depth limit keeps a hostile file from
    /// nesting without end.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
        RespectNullableAnnotations = true, MaxDepth = 32,
    };

    /// <summary>Largest image side and latent channels accepted: far above any real model, far below what would exhaust memory when sampling.</summary>
    public const int MaxImageSize = 8192, MaxChannels = 4096;

    /// <summary>Most training timesteps a schedule may have (DiT and Stable Diffusion use 1000).</summary>
    public const int MaxScheduleSteps = 100_000;

    /// <summary>
    /// Every problem with the values of this manifest, one sentence fragment each naming the field: what
    /// sampling, fine-tuning and the VAE would otherwise reject (or crash on) in the middle of a run. Files are
    /// checked by <see cref="ModelBundle"/>, which knows the folder.
    /// </summary>
    public List<string> FindValueProblems()
    {
        var problems = new List<string>();
        if (Format != CurrentFormat) problems.Add($"format is '{Format}', expected '{CurrentFormat}'");
        if (Image.Channels is not (1 or 3)) problems.Add($"image.channels is {Image.Channels}, expected 1 or 3");
        if (Image.Size < 1 || Image.Size > MaxImageSize) problems.Add($"image.size is {Image.Size}, expected a side length between 1 and {MaxImageSize}");
        if (Image.Range.Length != 2 || !float.IsFinite(Image.Range[0]) || !float.IsFinite(Image.Range[1]) || !(Image.Range[0] < Image.Range[1]))
            problems.Add($"image.range is [{string.Join(", ", Image.Range)}], expected two finite numbers [low, high] with low < high");
        if (Latent.Channels < 1 || Latent.Channels > MaxChannels) problems.Add($"latent.channels is {Latent.Channels}, expected between 1 and {MaxChannels}");
        if (Latent.Size < 1 || Latent.Size > Image.Size) problems.Add($"latent.size is {Latent.Size}, expected between 1 and image.size ({Image.Size})");
        if (!(Latent.ScalingFactor > 0) || !double.IsFinite(Latent.ScalingFactor)) problems.Add($"latent.scaling_factor is {Latent.ScalingFactor}, expected a finite positive number");
        foreach (var (field, name) in new[] { ("vae.encoder_input", Vae.EncoderInput), ("vae.mean_output", Vae.MeanOutput), ("vae.logvar_output", Vae.LogVarOutput), ("vae.decoder_input", Vae.DecoderInput), ("vae.decoder_output", Vae.DecoderOutput) })
            if (string.IsNullOrWhiteSpace(name)) problems.Add($"{field} is empty, expected the ONNX model's input or output name");

        if (Denoisers.Count == 0) problems.Add("denoisers is empty, expected at least one (unet-text or dit-class)");
        foreach (var (name, d) in Denoisers)
        {
            string f = $"denoisers.{name}";
            if (d is null)
            {
                problems.Add($"{f} is null, expected a denoiser object");
                continue;
            }
            if (d.Kind is not (DenoiserSpec.UNetText or DenoiserSpec.DitClass))
                problems.Add($"{f}.kind is '{d.Kind}', expected '{DenoiserSpec.UNetText}' or '{DenoiserSpec.DitClass}'");
            foreach (var (field, value) in new[] { ("sample_input", d.SampleInput), ("timestep_input", d.TimestepInput), ("condition_input", d.ConditionInput), ("output", d.Output) })
                if (string.IsNullOrWhiteSpace(value)) problems.Add($"{f}.{field} is empty, expected the ONNX model's input or output name");
            var s = d.Schedule;
            if (s.Kind is not ("linear" or "scaled-linear")) problems.Add($"{f}.schedule.kind is '{s.Kind}', expected 'linear' or 'scaled-linear'");
            if (!(s.BetaStart > 0 && s.BetaStart < s.BetaEnd && s.BetaEnd < 1)) problems.Add($"{f}.schedule has beta_start {s.BetaStart} and beta_end {s.BetaEnd}, expected 0 < beta_start < beta_end < 1");
            if (s.Steps < 2 || s.Steps > MaxScheduleSteps) problems.Add($"{f}.schedule.steps is {s.Steps}, expected between 2 and {MaxScheduleSteps}");
            if (d.Kind == DenoiserSpec.DitClass)
            {
                // The label embedding has one row per class and one more for the null class, which is the last row.
                if (d.NullClass is null) problems.Add($"{f}.null_class is missing (a dit-class denoiser needs the label used for unconditional guidance, {Classes.Count} for {Classes.Count} classes)");
                else if (d.NullClass != Classes.Count)
                    problems.Add(d.NullClass < Classes.Count && d.NullClass >= 0
                        ? $"{f}.null_class is {d.NullClass}, which is one of the {Classes.Count} real classes; expected {Classes.Count} (the row after the last class)"
                        : $"{f}.null_class is {d.NullClass}, outside the label embedding of {Classes.Count} classes plus the null class; expected {Classes.Count}");
                // DiT guides ε channels 0–2 of its 2·C learned-sigma output (docs/PIPELINES.md §1); with one latent channel there are only 2.
                if (d.LearnedSigma && Latent.Channels < 2) problems.Add($"{f} has learned_sigma with latent.channels {Latent.Channels}, but DiT-style guidance of channels 0-2 needs at least 2 latent channels");
            }
            if (d.Kind == DenoiserSpec.UNetText && TextEncoder is null) problems.Add($"{f} is a unet-text denoiser but the bundle has no text_encoder");
            if (d.FinetunePattern is { } pattern)
            {
                try { _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1)); }
                catch (ArgumentException) { problems.Add($"{f}.finetune '{pattern}' is not a valid regular expression"); }
            }
        }
        if (Classes.Count == 0) problems.Add("classes is empty, expected the class names in label order");
        if (Classes.Any(string.IsNullOrWhiteSpace)) problems.Add("classes has an empty or null name, expected one name per class");
        else if (Classes.Distinct().Count() != Classes.Count) problems.Add("classes has duplicate names");
        if (PromptNames is { } pn && pn.Count != Classes.Count) problems.Add($"prompt_names has {pn.Count} entries, expected one per class ({Classes.Count})");
        if (PromptNames is { } names && names.Any(n => n is null)) problems.Add("prompt_names has a null entry, expected one name per class");
        if (!PromptTemplate.Contains("{class}")) problems.Add($"prompt_template '{PromptTemplate}' has no {{class}} placeholder");
        return problems;
    }

    public string Prompt(int classIndex) =>
        PromptTemplate.Replace("{class}", (PromptNames ?? Classes)[classIndex], StringComparison.Ordinal);
}
