namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// The stages (<see cref="StageNames"/>) a method runs, in order: what `evlf distill` does for its options. The stage files
/// under <c>Distillation/Stages/</c> carry the same names.
/// </summary>
/// <param name="Method">The method the recipe is for.</param>
/// <param name="Stages">The stages it runs, in the order they run.</param>
public sealed record DistillRecipe(DistillMethod Method, IReadOnlyList<string> Stages)
{
    /// <summary>random and herding: real training images, chosen.</summary>
    static readonly string[] RealImages = [StageNames.Select];

    /// <summary>
    /// dit, and d4m or mgd3 without EVLF: k-means of zImg, then sampling. Plain dit sampling reads no modes; dit computes
    /// them because its sample stage keys on them (dropping them would change dit's cache keys and manifest, not its images).
    /// </summary>
    static readonly string[] Generative = [StageNames.Latents, StageNames.Modes, StageNames.Sample];

    /// <summary>d4m, mgd3 and minimax with EVLF: the fusion module (stage A) fuses zImg with eText (stage B) before k-means.</summary>
    static readonly string[] GenerativeWithFusion =
    [
        StageNames.Latents, StageNames.Text, StageNames.Fusion, StageNames.Fuse, StageNames.Modes, StageNames.Sample,
    ];

    /// <summary>The recipe of <paramref name="options"/>: its method, with EVLF and fine-tuning (<see cref="DistillOptions.Finetune"/>) where they apply.</summary>
    public static DistillRecipe For(DistillOptions options)
    {
        var stages = !options.UsesGenerativeModel ? (options.ThroughVae ? [.. RealImages, StageNames.ThroughVae] : RealImages) : options.UsesFusion ? GenerativeWithFusion : Generative;
        // Herding's embedding network trains right before the first stage that embeds with it: herding's choice of real
        // images, herding's modes, or the choice among candidates; a later stage reads it from there.
        if (options.Method == DistillMethod.Herding) stages = [StageNames.Embedding, .. stages];
        if (options.UsesGenerativeModel && options.Modes == ModeKind.Herding)
        {
            int modes = Array.IndexOf(stages, StageNames.Modes);
            stages = [.. stages[..modes], StageNames.Embedding, .. stages[modes..]];
        }
        // Finetune trains the denoiser on what the modes cluster, right before it samples.
        if (options.UsesGenerativeModel && options.Finetune) stages = [.. stages[..^1], StageNames.Finetune, StageNames.Sample];
        // minimax fine-tunes the DiT with its criteria on the same latents, then samples plainly as dit does.
        if (options.Method == DistillMethod.Minimax) stages = [.. stages[..^1], StageNames.Minimax, StageNames.Sample];
        // Candidates above 1 sample more than they keep, then chooses.
        if (options.UsesGenerativeModel && options.Candidates > 1)
            stages = stages.Contains(StageNames.Embedding) ? [.. stages, StageNames.Choose] : [.. stages, StageNames.Embedding, StageNames.Choose];
        return new DistillRecipe(options.Method, stages);
    }

    /// <summary>Whether the recipe runs <paramref name="stage"/>.</summary>
    public bool Runs(string stage) => Stages.Contains(stage);

    /// <summary>
    /// How many waves a sharded run of this recipe takes on a scheduler: one per sharded stage it runs
    /// (<see cref="StageNames.Sharded"/>: the shards, then the finishing run), and at least one, whose finishing run
    /// publishes. A stage already in a shared stage cache makes a wave a no-op, never the count too small.
    /// </summary>
    public int Waves => Math.Max(1, Stages.Count(StageNames.Sharded.Contains));
}
