using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>The distillation methods of `evlf distill --method`.</summary>
public enum DistillMethod
{
    /// <summary>k real training images per class, seeded.</summary>
    Random,
    /// <summary>k real images per class chosen by herding.</summary>
    Herding,
    /// <summary>Plain class-conditional sampling from the DiT.</summary>
    Dit,
    /// <summary>D4M: k-means prototypes of latents, img2img with the class prompt on the text UNet.</summary>
    D4m,
    /// <summary>MGD3: k-means modes of latents, mode-guided DiT sampling.</summary>
    Mgd3,
}

/// <summary>
/// Everything `evlf distill` does. Defaults follow the released EVLF/MGD3/D4M code (docs/PIPELINES.md); each
/// known difference from the paper is an option here.
/// </summary>
public sealed record DistillOptions
{
    public string Data { get; init; } = "fashion-mnist";
    public string Bundle { get; init; } = "models/fmnist-ldm";
    public DistillMethod Method { get; init; } = DistillMethod.Mgd3;
    /// <summary>Apply the trained fusion module before clustering (EVLF stage B); d4m and mgd3 only.</summary>
    public bool Evlf { get; init; } = true;
    /// <summary>Fine-tune the denoiser on (fused) latents before sampling (the paper's D4M+EVLF, §4.3; not in the released code).</summary>
    public bool Finetune { get; init; }
    public int Ipc { get; init; } = 10;
    public int Seed { get; init; }
    public string Out { get; init; } = "runs/distill";
    /// <summary>
    /// Write into an <see cref="Out"/> (or <see cref="Cache"/>) folder that holds files evlf did not write; they are left
    /// alone, and an entry of the same name as an output is still refused (<see cref="Output.OutputFolder"/>).
    /// </summary>
    public bool Force { get; init; }
    /// <summary>Stage cache folder shared between runs (null: <c>Out/.stages</c>).</summary>
    public string? Cache { get; init; }
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;

    /// <summary>Diffusion steps (respaced) for sampling.</summary>
    public int Steps { get; init; } = 50;
    /// <summary>Guidance scale; null = the method's default (4 for dit/mgd3, 8 for d4m).</summary>
    public double? Cfg { get; init; }
    /// <summary>MGD3 mode-guidance λ and stop_t (docs/PIPELINES.md §3).</summary>
    public double ModeGuidanceLambda { get; init; } = 0.1;
    public int ModeGuidanceStopT { get; init; } = 25;
    /// <summary>DiT guidance on ε channels 0–2 only, as DiT's released code does (docs/PIPELINES.md §1); false guides every channel.</summary>
    public bool DitGuidanceChannels { get; init; } = true;
    /// <summary>D4M img2img strength (0.7) and negative prompt ("cartoon, anime, painting" in D4M's code).</summary>
    public double Strength { get; init; } = 0.7;
    public string NegativePrompt { get; init; } = "cartoon, anime, painting";
    /// <summary>Randomly flip images before computing the latents that are clustered (the released code does, docs/PIPELINES.md §7.8).</summary>
    public bool FlipForModes { get; init; } = true;
    /// <summary>EVLF text: the raw class name (released code) or the bundle's prompt template.</summary>
    public bool FusionUsesPromptTemplate { get; init; }
    public FusionConfig? Fusion { get; init; }
    public FusionTrainingOptions FusionTraining { get; init; } = new();
    /// <summary>Denoiser fine-tuning steps and learning rate (with --finetune).</summary>
    public int FinetuneSteps { get; init; } = 500;
    public double FinetuneLearningRate { get; init; } = 1e-4;
    public bool Quiet { get; init; }
    /// <summary>
    /// Only the first N training and the first N test images (null: all). A knob for quick benchmarks and trials, not
    /// part of any method; tools/bench/pipeline_reference.py's <c>--max-train</c> does the same.
    /// </summary>
    public int? MaxTrain { get; init; }

    public bool UsesGenerativeModel => Method is DistillMethod.Dit or DistillMethod.D4m or DistillMethod.Mgd3;
    public bool UsesFusion => Evlf && Method is DistillMethod.D4m or DistillMethod.Mgd3;
    public double GuidanceScale => Cfg ?? (Method == DistillMethod.D4m ? 8.0 : 4.0);
}
