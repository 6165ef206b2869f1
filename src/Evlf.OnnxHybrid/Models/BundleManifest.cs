using System.Text.Json;
using System.Text.Json.Serialization;
using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Models;

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
    /// <summary>Regex of the initializers a fine-tune trains (DiffFit-style for DiT: biases, norms, gammas, label table).</summary>
    [JsonPropertyName("finetune"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FinetunePattern { get; init; }
}

/// <summary>The contents of <c>bundle.json</c> (DESIGN.md §5).</summary>
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

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public string Prompt(int classIndex) =>
        PromptTemplate.Replace("{class}", (PromptNames ?? Classes)[classIndex], StringComparison.Ordinal);
}
