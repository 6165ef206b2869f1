using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation.Stages;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Sharding;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>A finished run: its folder, the images it wrote, its wall time and its manifest.</summary>
/// <param name="Out">The run folder.</param>
/// <param name="Images">The images published (0 when the run stopped at <paramref name="Waiting"/>).</param>
/// <param name="Seconds">The wall time.</param>
/// <param name="Manifest">The run's manifest (published with the images unless the run stopped).</param>
/// <param name="Waiting">Where a sharded run (<see cref="DistillOptions.Shards"/>) stopped without publishing: a shard after
/// its part, or the finishing run at a stage whose parts are not all finished; null when the set was published.</param>
public sealed record DistillResult(string Out, int Images, double Seconds, JsonObject Manifest, ShardWait? Waiting = null)
{
    /// <summary>Whether the set was published (not a shard's part, nor a finishing run waiting for shards).</summary>
    public bool Published => Waiting is null;

    /// <summary>
    /// The distilled set in memory: a dataset whose <c>Train</c> split holds the run's images with their labels (read from
    /// <see cref="Out"/>; <c>Test</c> is empty), ready for <see cref="Evaluation.SyntheticSetEvaluation"/> or your own training.
    /// </summary>
    public ImageDataset OpenSet(DatasetOptions? options = null) => SyntheticSetReader.Open(Out, options);
}

/// <summary>
/// `evlf distill`: checks the options against the data and the bundle, then runs the method's recipe
/// (<see cref="DistillRecipe"/>), one stage file of <c>Distillation/Stages/</c> after another — for the generative
/// methods: encode with the bundle's VAE, optionally train and apply the EVLF fusion module (stages A and B), cluster per
/// class, optionally fine-tune the denoiser, sample and decode — and writes <c>OUT/images/&lt;class&gt;/&lt;n&gt;.png</c>
/// with <c>OUT/manifest.json</c>. Every stage is cached in the run folder (<see cref="RunFolder"/>).
/// </summary>
public sealed class DistillationPipeline
{
    readonly DistillOptions options;
    readonly ILogger logger;
    readonly IProgress<WorkProgress> progress;

    /// <param name="options">What to run (<see cref="DistillOptions.Default"/>: what `evlf distill` runs).</param>
    /// <param name="logger">Where notices go: the folder written, a stage waiting for another process, skipped data entries (Warning), the CUDA → CPU fallback.</param>
    /// <param name="progress">Told each stage's progress (task, done of total, status), counting up.</param>
    public DistillationPipeline(DistillOptions options, ILogger? logger = null, IProgress<WorkProgress>? progress = null)
    {
        TorchSharpLoader.Ensure();
        this.options = options;
        this.logger = logger ?? NullLogger.Instance;
        this.progress = progress ?? new InlineProgress<WorkProgress>(_ => { });
    }

    /// <summary>
    /// An opened dataset to distil instead of opening <see cref="DistillOptions.Data"/> (null: open that spec). The run is
    /// the one of its spec (<see cref="ImageDataset.Spec"/>): the same images, cache keys and manifest as opening that spec
    /// by path; a dataset built in memory is known by its content (<see cref="DataIdentity.Of(ImageDataset)"/>) and
    /// normalised with statistics measured on it. It must have the bundle's channel count.
    /// </summary>
    public ImageDataset? Dataset { get; init; }

    /// <summary>
    /// An opened bundle to use instead of loading <see cref="DistillOptions.Bundle"/> (null: load that folder); the run is
    /// the one of the bundle's folder.
    /// </summary>
    public ModelBundle? Bundle { get; init; }

    /// <summary>
    /// Runs the method's recipe and publishes the set and its manifest into <see cref="DistillOptions.Out"/>. Split over
    /// shards (<see cref="DistillOptions.Shards"/>), a shard runs its part of the first sharded stage that is not finished
    /// and returns; the finishing run merges the parts, goes on and publishes, or returns where it waits for shards
    /// (<see cref="DistillResult.Waiting"/>).
    /// </summary>
    public DistillResult Run(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var inputs = DistillInputs.ForDistill(this.options, logger, Dataset, Bundle);
        var options = inputs.Options;
        var recipe = DistillRecipe.For(options);
        using var run = new RunFolder(options.Out, options.Cache, "distill", options.Force, logger, cancellationToken, options.Shards);
        var context = Context(inputs, run, cancellationToken);
        var manifest = DistillManifest.ForDistill(options, context.DataId, inputs.Dataset);

        string setStage;
        try
        {
            setStage = recipe.Runs(StageNames.Select)
                ? SelectStage.Run(context)
                : Generate(recipe, context, inputs.Bundle!, inputs.Denoiser!, manifest);
            if (recipe.Runs(StageNames.ThroughVae))
            {
                manifest["bundle"] = new JsonObject { ["path"] = inputs.Bundle!.Directory, ["hashes"] = DistillManifest.BundleHashes(inputs.Bundle, null) };
                setStage = ThroughVaeStage.Run(context, inputs.Bundle, setStage);
            }
        }
        catch (ShardWaitException stop)
        {
            logger.LogInformation("{Message}", stop.Message);
            return new DistillResult(run.Root, 0, clock.Elapsed.TotalSeconds, manifest, stop.Wait);
        }
        if (options.Shards is { Index: int index } shards)
        {
            // Every stage is finished (a shard of a wave after the last): publishing is the finishing run's.
            var done = new ShardWait("publish", shards.Count, [.. Enumerable.Range(0, shards.Count)],
                FormattableString.Invariant($"shard {index} of {shards.Count} has nothing left to do: every stage is finished, and the finishing run publishes the set."));
            logger.LogInformation("{Message}", done.Message);
            return new DistillResult(run.Root, 0, clock.Elapsed.TotalSeconds, manifest, done);
        }
        DistillManifest.Finish(manifest, run, clock.Elapsed);
        // The manifest goes last: its presence means the set is complete.
        int images = SyntheticSetWriter.Publish(Path.Combine(setStage, SampleStage.SetFolder), run.Output, manifest);
        logger.LogInformation("wrote {Images} images to {Folder}", images, run.Root);
        return new DistillResult(run.Root, images, clock.Elapsed.TotalSeconds, manifest);
    }

    /// <summary>The generative recipes (dit, d4m, mgd3, minimax): latents → [text → fusion → fuse] → modes → [finetune | minimax] → sample → [choose].</summary>
    static string Generate(DistillRecipe recipe, StageContext context, ModelBundle bundle, string denoiser, JsonObject manifest)
    {
        var hashes = DistillManifest.BundleHashes(bundle, denoiser);
        manifest["bundle"] = new JsonObject { ["path"] = bundle.Directory, ["denoiser"] = denoiser, ["hashes"] = hashes };
        using var runtime = new BundleRuntime(bundle, context.Settings);
        using var scope = NewDisposeScope();

        var latents = LatentsStage.Run(context, bundle, runtime, fusion: recipe.Runs(StageNames.Fusion));
        var toCluster = new ClusterInput(latents.ZImg, latents.UpstreamKey);
        if (recipe.Runs(StageNames.Fusion))
        {
            var text = TextStage.Run(context, bundle, runtime);
            var module = FusionTrainingStage.Run(context, bundle, runtime, latents.Encoded, text);
            manifest["fusion"] = module.Record;
            toCluster = FuseStage.Run(context, module, latents);
        }
        var modes = ModesStage.Run(context, toCluster, latents, bundle.Manifest.Latent.ScalingFactor);
        var sampleFrom = bundle;
        if (recipe.Runs(StageNames.Finetune))
            sampleFrom = FinetuneStage.Run(context, bundle, denoiser, runtime, toCluster, latents.Labels);
        if (recipe.Runs(StageNames.Minimax))
            sampleFrom = MinimaxStage.Run(context, bundle, denoiser, toCluster, latents);
        if (sampleFrom != bundle) manifest["finetuned_bundle"] = sampleFrom.Directory;
        // A fine-tuned denoiser is part of what the samples come from (its bytes follow its stage's options).
        string sampledDenoiser = sampleFrom == bundle ? "" : RunFolder.FileHash(sampleFrom.PathOf(sampleFrom.Denoiser(denoiser).File));
        string sampled = SampleStage.Run(context, sampleFrom, denoiser, modes, latents,
            bundleKey: RunFolder.Key(hashes.ToJsonString() + sampledDenoiser));
        return recipe.Runs(StageNames.Choose) ? ChooseStage.Run(context, sampled) : sampled;
    }

    /// <summary>The files <see cref="TrainFusionModule"/> leaves in OUT, manifest.json last.</summary>
    public static readonly string[] FusionModuleFiles = ["fusion.onnx", "projector.onnx", "fusion-log.json", "fusion-test.json"];

    /// <summary>
    /// <c>evlf train-fusion</c>: the latents, text and fusion stages alone (the same stages, keys and cache as
    /// <see cref="Run"/>, so a later distill with the same data, bundle, seed and fusion options reuses the module). Leaves
    /// <see cref="FusionModuleFiles"/> and manifest.json (provenance, stage times, the training log and the test-split
    /// quality) in OUT.
    /// </summary>
    public DistillResult TrainFusionModule(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var inputs = DistillInputs.ForFusionModule(this.options, logger, Dataset, Bundle);
        var options = inputs.Options;
        var bundle = inputs.Bundle!;
        using var run = new RunFolder(options.Out, options.Cache, "train-fusion", options.Force, logger, cancellationToken);
        var context = Context(inputs, run, cancellationToken);
        var manifest = DistillManifest.ForFusionModule(options, context.DataId, inputs.Dataset, bundle);
        using var runtime = new BundleRuntime(bundle, context.Settings);

        // Both views of the fusion pool: the rows a distill's fusion training reads, so it finds them cached.
        var pool = LatentRows.PoolMask(inputs.Dataset.Train.Count, options);
        var latents = LatentsStage.Produce(context, bundle, runtime, new LatentRows(pool, pool));
        var text = TextStage.Run(context, bundle, runtime);
        var module = FusionTrainingStage.Run(context, bundle, runtime, latents, text);
        manifest["fusion"] = module.Record;
        DistillManifest.Finish(manifest, run, clock.Elapsed);

        run.Output.Delete("manifest.json");
        foreach (var file in FusionModuleFiles)
            run.Output.ReplaceFile(file, temp => File.Copy(Path.Combine(module.Folder, file), temp));
        run.Output.ReplaceFile("manifest.json", temp => AtomicFile.WriteJson(temp, manifest));
        logger.LogInformation("wrote the fusion module to {Path}", Path.Combine(run.Root, "fusion.onnx"));
        return new DistillResult(run.Root, 0, clock.Elapsed.TotalSeconds, manifest);
    }

    StageContext Context(DistillInputs inputs, RunFolder run, CancellationToken cancellationToken) =>
        new(inputs.Options, inputs.Dataset, DataIdentity.Of(inputs.Dataset), run, progress, logger, cancellationToken);
}
