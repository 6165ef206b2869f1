namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// The names of `evlf distill`'s cached stages: the folders under the run folder's <c>.stages/</c>, the keys of the
/// manifest's stage timings, and the stages the bench compares with its Python twin.
/// </summary>
public static class StageNames
{
    /// <summary>random and herding: the chosen real images.</summary>
    public const string Select = "select";
    /// <summary>random and herding with <see cref="DistillOptions.ThroughVae"/>: the chosen images encoded and decoded by the bundle's VAE.</summary>
    public const string ThroughVae = "through-vae";
    /// <summary>The VAE latents of the training images.</summary>
    public const string Latents = "latents";
    /// <summary>The text embeddings of the class prompts.</summary>
    public const string Text = "text";
    /// <summary>EVLF stage A: the trained fusion module and projector.</summary>
    public const string Fusion = "fusion";
    /// <summary>EVLF stage B: the fused latents.</summary>
    public const string Fuse = "fuse";
    /// <summary>Per-class k-means: the modes or img2img starting latents.</summary>
    public const string Modes = "modes";
    /// <summary><see cref="DistillOptions.Finetune"/>: the denoiser fine-tuned on the (fused) latents.</summary>
    public const string Finetune = "finetune";
    /// <summary>Method minimax: the DiT fine-tuned with the Minimax criteria on the (fused) latents.</summary>
    public const string Minimax = "minimax";
    /// <summary>Sampling and decoding: the synthetic images (with <see cref="DistillOptions.Candidates"/> M, M times as many).</summary>
    public const string Sample = "sample";
    /// <summary>
    /// Herding's embedding network, trained on the real training split: for the herding baseline, <see cref="ModeKind.Herding"/>
    /// and <see cref="Choose"/>.
    /// </summary>
    public const string Embedding = "embedding";
    /// <summary><see cref="DistillOptions.Candidates"/> M: ipc images per class chosen among the sampled candidates.</summary>
    public const string Choose = "choose";

    /// <summary>
    /// The stages of a generative EVLF run, in the order they run (finetune only with <see cref="DistillOptions.Finetune"/>; method minimax runs
    /// <see cref="Minimax"/> in finetune's place).
    /// </summary>
    public static IReadOnlyList<string> Generative { get; } = [Latents, Text, Fusion, Fuse, Modes, Finetune, Sample];

    /// <summary>
    /// The stages a sharded run splits over its shards (docs/SCALE.md), in the order they run: each is one wave of shard
    /// processes followed by a finishing run.
    /// </summary>
    public static IReadOnlyList<string> Sharded { get; } = [Latents, Fuse, Sample];
}
