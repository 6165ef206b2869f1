using System.Text.Json.Serialization;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Sharding;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>The distillation methods (<see cref="DistillOptions.Method"/>).</summary>
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
    /// <summary>MinimaxDiffusion: the DiT fine-tuned with the Minimax criteria (<see cref="DistillOptions.Minimax"/>), then plain sampling.</summary>
    Minimax,
}

/// <summary>What the modes stage keeps of each per-class k-means cluster (<see cref="DistillOptions.Modes"/>).</summary>
public enum ModeKind
{
    /// <summary>The cluster centre, as every released method does.</summary>
    Centroid,
    /// <summary>The latent of the real training image closest to the centre (each image at most once per class).</summary>
    ClosestReal,
    /// <summary>
    /// No k-means: the latents of the ipc real training images per class that herding picks (<see cref="Distillation.Herding"/>,
    /// in herding's ConvNet features), so the modes, and with <see cref="SampleStart.Real"/> the starts, are the herding
    /// coreset. Not a method of any paper: real-anchored sampling from the strongest real baseline.
    /// </summary>
    Herding,
}

/// <summary>Where sampling starts (<see cref="DistillOptions.Start"/>).</summary>
public enum SampleStart
{
    /// <summary>Pure noise: plain sampling (dit and mgd3's default).</summary>
    Noise,
    /// <summary>The modes, noised to <see cref="DistillOptions.Strength"/> (img2img; d4m's default).</summary>
    Modes,
    /// <summary>The real training latents closest to the modes, noised to <see cref="DistillOptions.Strength"/> (real-anchored img2img).</summary>
    Real,
    /// <summary>
    /// As <see cref="Real"/>, but each of a mode's <see cref="DistillOptions.Candidates"/> starts from a real latent of its
    /// own: the Candidates training latents closest to the mode (each image at most once per class), so the candidates
    /// differ in the real image they keep and not only in their noise. With one candidate, <see cref="Real"/>.
    /// </summary>
    RealNeighbours,
}

/// <summary>How over-generated candidates are narrowed to ipc per class (<see cref="DistillOptions.Candidates"/>).</summary>
public enum CandidateSelection
{
    /// <summary>Herding towards the class's mean real feature: the chosen images' mean feature tracks the real one.</summary>
    Herding,
    /// <summary>k-center: the candidate nearest the class's mean real feature, then each time the one farthest from those chosen.</summary>
    KCenter,
    /// <summary>
    /// Kernel herding (Chen, Welling and Smola, UAI 2010): greedily minimises the maximum mean discrepancy between the
    /// chosen candidates and the class's real features under a Gaussian kernel (bandwidth: the median heuristic), so the
    /// chosen set matches the real class's spread as well as its mean.
    /// </summary>
    KernelHerding,
    /// <summary>
    /// Herding's choice, then swaps within each class while they make the chosen images better prototypes for the real
    /// data: the cross-entropy of a nearest-chosen-image classifier on the real features (logits −min distance² / τ) falls.
    /// Unlike the others it looks at every class at once, so a class's images are also kept away from other classes.
    /// </summary>
    Discriminative,
}

/// <summary>
/// Classifier-free guidance only while the model timestep t satisfies Low·T ≤ t ≤ High·T (T the training steps, 1000 for
/// the default bundle); outside it the denoiser's conditional output is used alone. Low 0 and High 1 is plain guidance.
/// </summary>
public sealed record GuidanceInterval(double Low, double High)
{
    /// <summary>Whether model timestep <paramref name="t"/> of a <paramref name="trainingSteps"/>-step schedule is guided.</summary>
    public bool Contains(int t, int trainingSteps) => t >= Low * trainingSteps && t <= High * trainingSteps;

    public override string ToString() => FormattableString.Invariant($"{Low},{High}");
}

/// <summary>Named starting points for <see cref="DistillOptions"/> (<see cref="DistillOptions.For"/>).</summary>
public enum DistillPreset
{
    /// <summary>
    /// What `evlf distill` runs: the released recipe plus the sampling options that measured best (docs/EVALUATION.md),
    /// with the fusion module trained on <see cref="DistillOptions.DefaultFusionSamples"/> images per epoch.
    /// </summary>
    Default,
    /// <summary>The released code's recipe: every option at the released value.</summary>
    Released,
}

/// <summary>
/// Everything `evlf distill` does. Defaults follow the released EVLF/MGD3/D4M code (docs/PIPELINES.md); each
/// known difference from the paper is an option here.
/// </summary>
public sealed record DistillOptions
{
    /// <summary>The released recipe: every property at its initial value (mgd3 + EVLF).</summary>
    public static DistillOptions Released { get; } = new();

    /// <summary>
    /// What `evlf distill` runs with no options: <see cref="For"/> mgd3 with <see cref="DistillPreset.Default"/> at IPC 10
    /// (for another IPC, <c>For(DistillMethod.Mgd3, DistillPreset.Default, ipc)</c>: the preset's start depends on it).
    /// </summary>
    public static DistillOptions Default { get; } = For(DistillMethod.Mgd3);

    /// <summary>
    /// Fusion-training images per epoch in <see cref="DistillPreset.Default"/>: 4 epochs × 12 000 is a fifth of the
    /// released full pass (60 000 Fashion-MNIST images), which keeps the default run within 15 minutes on 2 CPU cores.
    /// </summary>
    public const int DefaultFusionSamples = 12_000;

    /// <summary>
    /// <see cref="DistillPreset.Default"/>, mgd3: from this many images per class up, sampling starts from real latents
    /// (<see cref="SampleStart.Real"/>) at <see cref="DefaultRealStrength"/>; below it, from noise. Measured at IPC 1
    /// (real starts −3.6 points), 5 (+0.2, one classifier seed), 10 (+1.7) and 50 (+2.9): docs/EVALUATION.md §13–14.
    /// </summary>
    public const int DefaultRealStartIpc = 10;

    /// <summary>
    /// <see cref="DistillPreset.Default"/>, mgd3: up to this many images per class the candidates are chosen by
    /// <see cref="CandidateSelection.Discriminative"/> instead of herding. Measured over 3 generation × 3 classifier
    /// seeds, paired with herding's choice: IPC 1 +1.23, 2 +0.54, 3 +0.79, 4 +0.32 (7, 6, 7 and 4 of 9 above zero); IPC 5
    /// −1.37 (three classifier seeds): docs/EVALUATION.md §24–25.
    /// </summary>
    public const int DefaultDiscriminativeIpc = 3;

    /// <summary>
    /// The img2img strength of <see cref="DistillPreset.Default"/>'s real starts (<see cref="DefaultRealStartIpc"/>): of
    /// 0.1–0.5 at IPC 10, 0.2 and 0.3 measured best and level over 3 × 3 seeds (docs/EVALUATION.md §14).
    /// </summary>
    public const double DefaultRealStrength = 0.3;

    /// <summary>
    /// <see cref="DistillPreset.Default"/>, mgd3: from this many images per class up, the real starts keep their pixel
    /// detail (<see cref="RealDetail"/>) and are sampled at <see cref="DefaultRealDetailStrength"/> instead of
    /// <see cref="DefaultRealStrength"/>. Measured at IPC 10 (−0.37 at strength 0.3, one classifier seed; at 0.2 level with
    /// the default over 3 × 3 seeds, docs/EVALUATION.md §21: kept off there) and 50 (+1.02 over three classifier seeds,
    /// paired); IPC 11–49 unmeasured: docs/EVALUATION.md §17. A caller that sets another <see cref="Start"/> on these
    /// options turns <see cref="RealDetail"/> off too (it needs a real start).
    /// </summary>
    public const int DefaultRealDetailIpc = 50;

    /// <summary>
    /// The img2img strength of <see cref="DistillPreset.Default"/>'s real starts with their detail kept
    /// (<see cref="DefaultRealDetailIpc"/>): of 0.1, 0.2 and 0.3 at IPC 50, 0.2 measured best (docs/EVALUATION.md §17).
    /// </summary>
    public const double DefaultRealDetailStrength = 0.2;

    /// <summary>
    /// The options of <paramref name="preset"/> for <paramref name="method"/> at <paramref name="ipc"/> images per class.
    /// <see cref="DistillPreset.Default"/> changes only how the generative methods sample and what they keep, and trains
    /// the fusion module on a subset (<see cref="DefaultFusionSamples"/>); random and herding are the same in both presets.
    /// Its mgd3 chooses discriminatively up to <see cref="DefaultDiscriminativeIpc"/> images per class, starts from real
    /// latents from <see cref="DefaultRealStartIpc"/> up, and keeps their pixel detail from <see cref="DefaultRealDetailIpc"/>
    /// up, so a caller that changes <see cref="Ipc"/> afterwards should ask this method again rather than use <c>with</c>.
    /// </summary>
    public static DistillOptions For(DistillMethod method, DistillPreset preset = DistillPreset.Default, int ipc = 10)
    {
        // Minimax's released pipeline has no EVLF; EVLF on it is asked for (Evlf = true).
        var released = new DistillOptions { Method = method, Evlf = method != DistillMethod.Minimax, Ipc = ipc };
        if (preset == DistillPreset.Released || !released.UsesGenerativeModel) return released;
        // Over-generation with selection is the option that measured best (docs/EVALUATION.md, "Where quality is lost"),
        // and for mgd3 from IPC 10 up, real-anchored img2img besides (docs/EVALUATION.md §13).
        var selecting = released with
        {
            Candidates = 10, Selection = CandidateSelection.Herding,
            FusionTraining = released.FusionTraining with { MaxSamples = DefaultFusionSamples },
        };
        if (method != DistillMethod.Mgd3) return selecting;
        // At one to three images per class mgd3's choice looks at every class at once (docs/EVALUATION.md §24–25).
        if (ipc <= DefaultDiscriminativeIpc) return selecting with { Selection = CandidateSelection.Discriminative };
        if (ipc < DefaultRealStartIpc) return selecting;
        // From IPC 50 up (DefaultRealDetailIpc) the real starts keep their pixel detail as well (docs/EVALUATION.md §17).
        return ipc >= DefaultRealDetailIpc
            ? selecting with { Start = SampleStart.Real, Strength = DefaultRealDetailStrength, RealDetail = true }
            : selecting with { Start = SampleStart.Real, Strength = DefaultRealStrength };
    }

    /// <summary>The data spec to distil (<see cref="Data.DataSpec"/>); <see cref="DistillationPipeline.Dataset"/>, when given, is read instead.</summary>
    public string Data { get; init; } = "fashion-mnist";
    /// <summary>The model bundle's folder; <see cref="DistillationPipeline.Bundle"/>, when given, is used instead.</summary>
    public string Bundle { get; init; } = "models/fmnist-ldm";
    public DistillMethod Method { get; init; } = DistillMethod.Mgd3;
    /// <summary>
    /// Apply the trained fusion module (EVLF stage B) to the latents d4m and mgd3 cluster and minimax fine-tunes on; dit has
    /// none. <see cref="For"/> turns it off for minimax, whose released pipeline has no EVLF.
    /// </summary>
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
    /// <summary>
    /// img2img strength (D4M's 0.7) whenever sampling starts from latents (<see cref="SamplingStart"/> not noise); 0 decodes
    /// those latents without any denoising step. And D4M's negative prompt ("cartoon, anime, painting" in D4M's code).</summary>
    public double Strength { get; init; } = 0.7;
    public string NegativePrompt { get; init; } = "cartoon, anime, painting";
    /// <summary>Randomly flip images before computing the latents that are clustered (the released code does, docs/PIPELINES.md §7.8).</summary>
    public bool FlipForModes { get; init; } = true;
    /// <summary>EVLF text: the raw class name (released code) or the bundle's prompt template.</summary>
    public bool FusionUsesPromptTemplate { get; init; }
    public FusionConfig? Fusion { get; init; }
    public FusionTrainingOptions FusionTraining { get; init; } = new();
    /// <summary>Denoiser fine-tuning steps and learning rate (with <see cref="Finetune"/>).</summary>
    public int FinetuneSteps { get; init; } = 500;
    public double FinetuneLearningRate { get; init; } = 1e-4;
    /// <summary>The Minimax fine-tune of the DiT (method minimax): steps, memories, weights.</summary>
    public MinimaxOptions Minimax { get; init; } = new();
    /// <summary>
    /// random and herding: pass the chosen images through the bundle's VAE (encode to the posterior mean, decode) — the
    /// ceiling the VAE sets for every generative method (not a method of any paper; a measurement).
    /// </summary>
    public bool ThroughVae { get; init; }
    /// <summary>
    /// Herding's embedding network as every stage that uses it trains it (the herding baseline, <see cref="ModeKind.Herding"/>
    /// and the choice among candidates), so that they pick in the same features.
    /// </summary>
    internal HerdingOptions HerdingEmbedding => new() { Seed = Seed };
    /// <summary>What the modes stage keeps of each k-means cluster: the centre (released) or the closest real latent; or herding's picks instead of k-means.</summary>
    public ModeKind Modes { get; init; } = ModeKind.Centroid;
    /// <summary>Where sampling starts; null is the method's own: the modes for d4m, noise for dit and mgd3.</summary>
    public SampleStart? Start { get; init; }
    /// <summary>
    /// With real starts (<see cref="SampleStart.Real"/>, <see cref="SampleStart.RealNeighbours"/>): write each sample as its
    /// starting real image plus what sampling changed in the decoded image, real + decode(sample) − decode(start), so the
    /// detail the VAE loses of the real image (docs/EVALUATION.md §2: the VAE's cost) is kept and only the change is the
    /// generator's. Not in any paper. Costs one more decoder call per sample.
    /// </summary>
    public bool RealDetail { get; init; }
    /// <summary>
    /// With real starts: write each sample in its training image's own orientation. A real start is its image's latent in
    /// the view the modes' flip coin picked (<see cref="FlipForModes"/>), so about half the starts are mirrored; this
    /// samples them as before and mirrors those samples back. Not in any paper; costs nothing. Fashion-MNIST's shoes all
    /// face one way, and a mirrored training image is seen unmirrored only when DSA draws its flip; but the selection already
    /// keeps few mirrored shoes, and on mgd3's default it measured −1.0 at IPC 10 and −0.3 at IPC 50 (one classifier seed;
    /// docs/EVALUATION.md §20).
    /// </summary>
    public bool OwnView { get; init; }
    /// <summary>Guidance only in a band of noise levels (null: at every step, as released).</summary>
    public GuidanceInterval? GuidanceInterval { get; init; }
    /// <summary>
    /// Over-generation: sample this many candidates per image (M × ipc per class, each mode or start M times with other
    /// noise), then keep ipc per class by <see cref="Selection"/> in the features of a ConvNet trained on the real training
    /// split, after dropping the candidates that network does not assign to their class. 1 samples ipc and keeps them all.
    /// </summary>
    public int Candidates { get; init; } = 1;
    public CandidateSelection Selection { get; init; } = CandidateSelection.Herding;
    /// <summary>
    /// With <see cref="Candidates"/>: keep one candidate of each mode (each mode's M samples, and so each real start) before
    /// a mode gives a second, so the kept set covers every mode; <see cref="Selection"/> still picks which candidate and in
    /// what order. Off: the selection may take several candidates of one mode and none of another. Not in any paper; costs
    /// nothing. Measured on mgd3's default: −1.6 at IPC 10, −0.15 at IPC 50 (one classifier seed; docs/EVALUATION.md §18).
    /// </summary>
    public bool OnePerMode { get; init; }
    /// <summary>
    /// Write generated images at the bundle's size (32×32 for the default bundle) instead of cutting them back to the
    /// data's size where the bundle padded it (Fashion-MNIST: 28×28, the window the real image filled).
    /// </summary>
    public bool KeepBundleSize { get; init; }
    public bool Quiet { get; init; }
    /// <summary>
    /// Only the first N training and the first N test images (null: all). A knob for quick benchmarks and trials, not
    /// part of any method; the repository's PyTorch reference pipeline takes the same knob.
    /// </summary>
    public int? MaxTrain { get; init; }

    /// <summary>
    /// Splits the run over processes (<see cref="ShardSpec"/>, docs/SCALE.md); null runs everything in this process. The
    /// split changes no byte of the result, so it is no part of the manifest's options or of any stage key.
    /// </summary>
    [JsonIgnore]
    public ShardSpec? Shards { get; init; }

    /// <summary>Images per encoder batch, and per unit of work a shard takes (tests make it small to split a tiny dataset).</summary>
    [JsonIgnore]
    internal int EncodeBatch { get; init; } = Stages.LatentsStage.DefaultEncodeBatch;

    /// <summary>Latents per fusion-module call, and per unit of work a shard of the fuse stage takes (as <see cref="EncodeBatch"/>).</summary>
    [JsonIgnore]
    internal int FuseBatch { get; init; } = FusionEvaluation.Batch;

    public bool UsesGenerativeModel => Method is DistillMethod.Dit or DistillMethod.D4m or DistillMethod.Mgd3 or DistillMethod.Minimax;
    public bool UsesFusion => Evlf && Method is DistillMethod.D4m or DistillMethod.Mgd3 or DistillMethod.Minimax;
    /// <summary>Where sampling starts, with the method's default resolved.</summary>
    public SampleStart SamplingStart => Start ?? (Method == DistillMethod.D4m ? SampleStart.Modes : SampleStart.Noise);
    /// <summary>Real latents each mode hands on as starts: <see cref="Candidates"/> with <see cref="SampleStart.RealNeighbours"/>, else 1.</summary>
    internal int StartsPerMode => SamplingStart == SampleStart.RealNeighbours ? Candidates : 1;
    public double GuidanceScale => Cfg ?? (Method == DistillMethod.D4m ? 8.0 : 4.0);

    /// <summary>
    /// Checks every value on its own and against the method, before any work: throws a <see cref="UserInputException"/>
    /// naming the option (<see cref="UserInputException.Option"/>, e.g. "DistillOptions.Ipc"). The pipeline calls it; the
    /// checks against the data and the bundle come when they are opened.
    /// </summary>
    public void Validate()
    {
        static string Finite(double x) => FormattableString.Invariant($"{x}");
        Require(Ipc >= 1, nameof(Ipc), $"must be at least 1; got {Ipc}.");
        Require(Steps >= 1, nameof(Steps), $"must be at least 1; got {Steps}.");
        Require(Cfg is not double cfg || (cfg >= 1 && double.IsFinite(cfg)), nameof(Cfg), $"must be a finite number of at least 1 (1 = no guidance); got {Finite(Cfg ?? 0)}.");
        Require(ModeGuidanceLambda >= 0 && double.IsFinite(ModeGuidanceLambda), nameof(ModeGuidanceLambda), $"must be a finite number of at least 0; got {Finite(ModeGuidanceLambda)}.");
        Require(ModeGuidanceStopT >= 0, nameof(ModeGuidanceStopT), $"must be at least 0; got {ModeGuidanceStopT}.");
        Require(Strength >= 0 && Strength <= 1, nameof(Strength), $"must be in [0, 1]; got {Finite(Strength)}.");
        Require(Candidates >= 1, nameof(Candidates), $"must be at least 1; got {Candidates}.");
        Require(!OnePerMode || Candidates > 1, nameof(OnePerMode), $"chooses among each mode's candidates, but there is {Candidates} candidate per image; sample more (candidates 2 or more).");
        if (GuidanceInterval is { } interval)
            Require(interval.Low >= 0 && interval.Low <= interval.High && interval.High <= 1, nameof(GuidanceInterval), $"must be LOW,HIGH with 0 ≤ LOW ≤ HIGH ≤ 1; got {interval}.");
        Require(FinetuneSteps >= 1, nameof(FinetuneSteps), $"must be at least 1; got {FinetuneSteps}.");
        Require(FinetuneLearningRate > 0 && double.IsFinite(FinetuneLearningRate), nameof(FinetuneLearningRate), $"must be a finite number above 0; got {Finite(FinetuneLearningRate)}.");
        Require(MaxTrain is not < 1, nameof(MaxTrain), $"must be at least 1; got {MaxTrain}.");
        FusionTraining.Validate();
        Minimax.Validate();
        Shards?.Validate();

        string method = Method.ToString().ToLowerInvariant();
        Require(!Finetune || UsesGenerativeModel, nameof(Finetune), $"applies to the generative methods (dit, d4m, mgd3); method '{method}' selects real images.");
        Require(!Finetune || Method != DistillMethod.Minimax, nameof(Finetune), "applies to dit, d4m and mgd3; method 'minimax' fine-tunes the DiT with its own objective (DistillOptions.Minimax).");
        Require(!ThroughVae || !UsesGenerativeModel, nameof(ThroughVae), $"applies to the real-image methods (random, herding); method '{method}' already decodes with the VAE.");
        if (!UsesGenerativeModel)
        {
            string? generativeOnly = Modes != ModeKind.Centroid ? nameof(Modes) : Start is not null ? nameof(Start)
                : GuidanceInterval is not null ? nameof(GuidanceInterval) : Candidates != 1 ? nameof(Candidates)
                : RealDetail ? nameof(RealDetail) : OwnView ? nameof(OwnView) : null;
            Require(generativeOnly is null, generativeOnly!, $"applies to the generative methods (dit, d4m, mgd3, minimax); method '{method}' selects real images.");
        }
        Require(!(SamplingStart == SampleStart.RealNeighbours && Modes == ModeKind.Herding), nameof(Start),
            "real-neighbours takes the real latents around each k-means mode, but with modes 'herding' there is no k-means; use start 'real' or modes 'centroid' or 'closest-real'.");
        Require(!OnePerMode || Method == DistillMethod.Mgd3 || SamplingStart != SampleStart.Noise, nameof(OnePerMode),
            $"groups the candidates by the mode they are guided by or start from, but method '{method}' samples from noise without modes; start from the modes or from real latents.");
        bool realStart = SamplingStart is SampleStart.Real or SampleStart.RealNeighbours;
        Require(!RealDetail || realStart, nameof(RealDetail),
            $"adds back the detail of the real image a sample starts from, but sampling starts from {SamplingStart.ToString().ToLowerInvariant()}; start from real latents (start 'real' or 'real-neighbours').");
        Require(!OwnView || realStart, nameof(OwnView),
            $"writes each sample in the orientation of the real image it starts from, but sampling starts from {SamplingStart.ToString().ToLowerInvariant()}; start from real latents (start 'real' or 'real-neighbours').");
        Require(!(Strength == 0 && UsesGenerativeModel && SamplingStart == SampleStart.Noise), nameof(Strength),
            $"0 decodes the starting latents without denoising, but method '{method}' starts from noise; start from the modes or from real latents.");
    }

    /// <summary>The name of option <paramref name="property"/> in <see cref="UserInputException.Option"/>.</summary>
    public static string OptionName(string property) => $"{nameof(DistillOptions)}.{property}";

    static void Require(bool holds, string property, string problem)
    {
        if (!holds) throw UserInputException.ForOption(OptionName(property), problem);
    }
}
