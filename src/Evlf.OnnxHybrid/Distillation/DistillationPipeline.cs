using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Clustering;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>How a pipeline reports progress: a named task, done of total, optional status.</summary>
public delegate void PipelineProgress(string task, double done, double total, string? status);

public sealed record DistillResult(string Out, int Images, double Seconds, JsonObject Manifest);

/// <summary>
/// `evlf distill`: reads the data, and for the generative methods encodes it with the bundle's VAE,
/// optionally trains and applies the EVLF fusion module (stages A and B), clusters per class, optionally
/// fine-tunes the denoiser, samples, decodes and writes <c>OUT/images/&lt;class&gt;/&lt;n&gt;.png</c> with
/// <c>OUT/manifest.json</c>. Every stage is cached in the run folder (<see cref="RunFolder"/>).
/// </summary>
public sealed class DistillationPipeline
{
    readonly DistillOptions o;
    readonly Action<string> log;
    readonly PipelineProgress progress;

    public DistillationPipeline(DistillOptions options, Action<string>? log = null, PipelineProgress? progress = null)
    {
        o = options;
        this.log = log ?? (_ => { });
        this.progress = progress ?? ((_, _, _, _) => { });
    }

    IProgress<StepReport> Steps() => new InlineProgress<StepReport>(r => progress(r.Stage, r.Step, r.TotalSteps, FormattableString.Invariant($"loss {r.Loss:F4}")));

    public DistillResult Run(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        // Every option is checked against the data and the bundle before the first stage: a mistake costs no work.
        if (o.Ipc < 1) throw new UserInputException($"--ipc must be at least 1; got {o.Ipc}.");
        if (o.Steps < 1) throw new UserInputException($"--steps must be at least 1; got {o.Steps}.");
        if (o.Finetune && !o.UsesGenerativeModel)
            throw new UserInputException($"--finetune applies to the generative methods (dit, d4m, mgd3); method '{o.Method.ToString().ToLowerInvariant()}' selects real images.");
        if (o.UsesGenerativeModel) OnnxSession.RequireDevice(o.Device);
        // Generative methods read the data with the bundle's channel count (a grayscale bundle sees folders as gray).
        var bundle = o.UsesGenerativeModel ? ModelBundle.Load(o.Bundle) : null;
        RequireApart(bundle);
        var dataset = OpenData(bundle is null ? null : new DatasetOptions(Channels: bundle.Manifest.Image.Channels));
        var perClass = dataset.Train.CountPerClass(dataset.ClassNames.Count);
        int smallest = perClass.Min();
        if (o.Ipc > smallest)
            throw new UserInputException($"--ipc {o.Ipc} is larger than class '{dataset.ClassNames[Array.IndexOf(perClass, smallest)]}', which has {smallest} training images.");
        if (bundle is not null) CheckGenerative(bundle, dataset);

        using var run = new RunFolder(o.Out, o.Cache, "distill", o.Force, log, cancellationToken);
        string dataId = DataIdentity.Of(o.Data, dataset);
        var manifest = new JsonObject
        {
            ["method"] = o.Method.ToString().ToLowerInvariant(),
            ["evlf"] = o.UsesFusion,
            ["finetune"] = o.Finetune,
            ["ipc"] = o.Ipc,
            ["seed"] = o.Seed,
            ["data"] = DataRecord(dataId, dataset),
            ["options"] = JsonSerializer.SerializeToNode(o),
            ["commit"] = Provenance.GitCommit(),
        };

        string setDir = o.UsesGenerativeModel
            ? Generative(bundle!, dataset, dataId, run, manifest, cancellationToken)
            : Selection(dataset, dataId, run, cancellationToken);

        manifest["stages"] = StageRecords(run);
        manifest["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
        int images = Publish(setDir, run, manifest);
        log($"wrote {images} images to {run.Root}");
        return new DistillResult(run.Root, images, clock.Elapsed.TotalSeconds, manifest);
    }

    // ---- real-image baselines ----------------------------------------------------------------

    string Selection(ImageDataset dataset, string dataId, RunFolder run, CancellationToken ct)
    {
        var herding = new HerdingOptions { Seed = o.Seed };
        string key = RunFolder.Key(new { stage = "select", method = o.Method.ToString(), o.Ipc, o.Seed, dataId, herding });
        return run.Stage(StageNames.Select, key, tmp =>
        {
            var chosen = o.Method == DistillMethod.Herding
                ? Herding.Select(dataset, o.Ipc, herding, DatasetNormalization.For(DataSpec.Parse(o.Data), dataset),
                    new InlineProgress<string>(status => progress("herding", 0, 1, status)), ct)
                : RandomSelection.Select(dataset.Train, dataset.ClassNames.Count, o.Ipc, o.Seed);
            RealSubset.Write(dataset, chosen, Path.Combine(tmp, "set"), o.Method.ToString().ToLowerInvariant());
        });
    }

    // ---- generative methods --------------------------------------------------------------------

    Text.TextEncoderConfig RequireTextEncoder(ModelBundle bundle) => bundle.Manifest.TextEncoder
        ?? throw new UserInputException($"EVLF's fusion module needs the bundle's text encoder, but bundle '{o.Bundle}' has none (evlf distill runs without it with --no-evlf).");

    void CheckBundleFits(ModelBundle bundle, ImageDataset dataset)
    {
        var m = bundle.Manifest;
        if (m.Classes.Count != dataset.ClassNames.Count || !m.Classes.SequenceEqual(dataset.ClassNames))
            throw new UserInputException($"Bundle '{o.Bundle}' knows classes [{string.Join(", ", m.Classes)}] but dataset '{o.Data}' has [{string.Join(", ", dataset.ClassNames)}]; expected the same classes in the same order.");
        if (m.Image.Channels != dataset.Channels)
            throw new UserInputException($"Bundle '{o.Bundle}' works on {m.Image.Channels}-channel images but dataset '{o.Data}' has {dataset.Channels} channels.");
    }

    /// <summary>Which training images a run reads the latent of, plain and flipped: bool masks over the training split.</summary>
    sealed record LatentRows(Tensor Plain, Tensor Flipped)
    {
        public string Key => RunFolder.Key(new { plain = Hash(Plain), flipped = Hash(Flipped) });

        static string Hash(Tensor mask) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(mask.to(ScalarType.Byte).data<byte>().ToArray()));
    }

    /// <summary>
    /// The latents a run reads: the modes take each image plain or flipped by its coin (<paramref name="flipMask"/>), and
    /// fusion training (with <paramref name="fusion"/>) draws its pool (<see cref="FusionTrainer.Pool"/>) both ways.
    /// </summary>
    LatentRows RowsFor(long n, Tensor flipMask, bool fusion)
    {
        var flipped = flipMask.reshape(n).clone();
        var plain = flipped.logical_not();
        if (fusion)
        {
            var pool = PoolMask(n);
            plain = plain.logical_or(pool);
            flipped = flipped.logical_or(pool);
        }
        return new LatentRows(plain, flipped);
    }

    /// <summary>The fusion training pool (<see cref="FusionTrainer.Pool"/>) as a bool mask over the <paramref name="n"/> training images.</summary>
    Tensor PoolMask(long n) => zeros(n, dtype: ScalarType.Bool).index_fill_(0, FusionTrainer.Pool(n, o.FusionTraining, o.Seed), true);

    /// <summary>
    /// Stage: VAE posteriors (mean and log-variance) of the training images, plain and flipped (flips: fusion's augmentation
    /// and the modes' random flip), for the rows <paramref name="rows"/> names; the other rows hold NaN. Encoding only
    /// what the run reads saves about 40% of the encoder calls against every image both ways (the modes read one view
    /// per image, the fusion pool both). <paramref name="encoderKey"/> identifies the encoder, data and image space alone:
    /// the fusion module keys on it, so a module trained by one run serves any other with the same inputs.
    /// </summary>
    string LatentStage(ModelBundle bundle, BundleRuntime runtime, ImageDataset dataset, string dataId, RunFolder run, LatentRows rows, out string encoderKey)
    {
        var m = bundle.Manifest;
        encoderKey = RunFolder.Key(new { stage = "latents", dataId, encoder = RunFolder.FileHash(bundle.PathOf(m.Vae.Encoder)), image = JsonSerializer.Serialize(m.Image), scale = m.Latent.ScalingFactor });
        return run.Stage(StageNames.Latents, RunFolder.Key(new { encoderKey, rows = rows.Key }), tmp =>
        {
            var images = BundleImages.Load(dataset.Train, m.Image.Size, m.Image.Channels, progress: new InlineProgress<int>(n => progress("load images", n, dataset.Train.Count, null)));
            var labels = tensor(dataset.Train.Labels().Select(l => (long)l).ToArray());
            foreach (var (mask, flip, suffix) in new[] { (rows.Plain, false, ""), (rows.Flipped, true, "_flip") })
            {
                var index = mask.nonzero().flatten();
                var mean = full(images.shape[0], m.Latent.Channels, m.Latent.Size, m.Latent.Size, float.NaN);
                var logVar = mean.clone();
                if (index.shape[0] > 0)
                {
                    var selected = images.index_select(0, index);
                    Encode(runtime, flip ? selected.flip(3) : selected, flip ? "encode flipped" : "encode", out var encodedMean, out var encodedLogVar);
                    mean.index_copy_(0, index, encodedMean);
                    logVar.index_copy_(0, index, encodedLogVar);
                }
                StageTensors.Save(tmp, "mean" + suffix, mean);
                StageTensors.Save(tmp, "logvar" + suffix, logVar);
            }
            StageTensors.Save(tmp, "labels", labels);
        });
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
        OnnxSession.RequireDevice(o.Device);
        var bundle = ModelBundle.Load(o.Bundle);
        RequireTextEncoder(bundle);
        RequireApart(bundle);
        var dataset = OpenData(new DatasetOptions(Channels: bundle.Manifest.Image.Channels));
        CheckBundleFits(bundle, dataset);
        FusionTrainer.RequireOptimizerSteps(dataset.Train.Count, o.FusionTraining);
        using var run = new RunFolder(o.Out, o.Cache, "train-fusion", o.Force, log, cancellationToken);
        string dataId = DataIdentity.Of(o.Data, dataset);
        var manifest = new JsonObject
        {
            ["kind"] = "fusion-module",
            ["seed"] = o.Seed,
            ["data"] = DataRecord(dataId, dataset),
            ["bundle"] = new JsonObject { ["path"] = bundle.Directory, ["vae_encoder"] = RunFolder.FileHash(bundle.PathOf(bundle.Manifest.Vae.Encoder)) },
            ["training"] = JsonSerializer.SerializeToNode(o.FusionTraining),
            ["promptTemplate"] = o.FusionUsesPromptTemplate,
            ["commit"] = Provenance.GitCommit(),
        };
        using var runtime = new BundleRuntime(bundle, new SessionSettings(o.Device));
        var pool = PoolMask(dataset.Train.Count);
        string latentDir = LatentStage(bundle, runtime, dataset, dataId, run, new LatentRows(pool, pool), out string latentKey);
        var (fusionPath, _, _) = TrainFusion(bundle, runtime, run, latentDir, latentKey, dataset, manifest, cancellationToken);
        manifest["stages"] = StageRecords(run);
        manifest["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2);

        run.Output.Delete("manifest.json");
        foreach (var file in FusionModuleFiles)
            run.Output.ReplaceFile(file, temp => File.Copy(Path.Combine(Path.GetDirectoryName(fusionPath)!, file), temp));
        run.Output.ReplaceFile("manifest.json", temp => AtomicFile.WriteJson(temp, manifest));
        log($"wrote the fusion module to {Path.Combine(run.Root, "fusion.onnx")}");
        return new DistillResult(run.Root, 0, clock.Elapsed.TotalSeconds, manifest);
    }

    /// <summary>The data of <see cref="DistillOptions.Data"/>, cut to <see cref="DistillOptions.MaxTrain"/> images per split.</summary>
    ImageDataset OpenData(DatasetOptions? options)
    {
        var dataset = DataSpec.Open(o.Data, options);
        if (o.MaxTrain is not int max) return dataset;
        if (max < 1) throw new UserInputException($"MaxTrain must be at least 1; got {max}.");
        DatasetSplit First(DatasetSplit split) => split.Count <= max ? split : split.Subset(Enumerable.Range(0, max).ToArray());
        return dataset.WithSplits(First(dataset.Train), First(dataset.Test));
    }

    JsonObject DataRecord(string dataId, ImageDataset dataset)
    {
        var record = new JsonObject { ["spec"] = o.Data, ["id"] = dataId, ["train"] = dataset.Train.Count, ["test"] = dataset.Test.Count };
        if (o.MaxTrain is int max) record["maxTrain"] = max;
        return record;
    }

    static JsonArray StageRecords(RunFolder run) => new(run.Records.Select(r => (JsonNode)new JsonObject
    {
        ["stage"] = r.Stage, ["key"] = r.Key, ["cached"] = r.Cached, ["seconds"] = r.Seconds,
    }).ToArray());

    string Generative(ModelBundle bundle, ImageDataset dataset, string dataId, RunFolder run, JsonObject manifest, CancellationToken ct)
    {
        var m = bundle.Manifest;
        string denoiser = RequireDenoiser(bundle);
        var d = bundle.Denoiser(denoiser);

        var hashes = new JsonObject();
        foreach (var f in new[] { BundleManifest.FileName, m.Vae.Encoder, m.Vae.Decoder, d.File })
            hashes[f] = RunFolder.FileHash(bundle.PathOf(f));
        manifest["bundle"] = new JsonObject { ["path"] = bundle.Directory, ["denoiser"] = denoiser, ["hashes"] = hashes };
        string bundleKey = RunFolder.Key(hashes.ToJsonString());
        var settings = new SessionSettings(o.Device);
        using var runtime = new BundleRuntime(bundle, settings);
        double scale = m.Latent.ScalingFactor;

        using var scope = NewDisposeScope();
        // The modes' random flip: one seeded coin per image.
        long n = dataset.Train.Count;
        var flipMask = o.FlipForModes ? rand(new[] { n, 1L, 1L, 1L }, generator: new Generator(Seeds.Derive(o.Seed, SeedStream.ModeFlips))).lt(0.5) : zeros(new[] { n, 1L, 1L, 1L }, dtype: ScalarType.Bool);
        var rows = RowsFor(n, flipMask, o.UsesFusion);
        string latentDir = LatentStage(bundle, runtime, dataset, dataId, run, rows, out string latentKey);
        var means = StageTensors.Load(latentDir, "mean");
        var meansFlip = StageTensors.Load(latentDir, "mean_flip");
        var labelsAll = StageTensors.Load(latentDir, "labels");
        var modeLatents = where(flipMask, meansFlip, means);
        if (modeLatents.isnan().any().item<bool>())
            throw new InvalidDataException($"Stage folder '{latentDir}' lacks latents this run reads; delete the run's .stages folder and run again.");

        Tensor clusterInput = modeLatents;
        // The modes of a run without fusion follow the latents it read (the rows name the coins' flips).
        string upstreamKey = RunFolder.Key(new { latentKey, rows = rows.Key });
        if (o.UsesFusion)
        {
            var (fusionPath, fusionKey, fusionConfig) = TrainFusion(bundle, runtime, run, latentDir, latentKey, dataset, manifest, ct);
            // "folded": the stage runs FoldedFusion's graph (same function, other rounding), so older caches are not reused.
            string fuseKey = RunFolder.Key(new { stage = "fuse", fusionKey, o.Seed, o.FlipForModes, graph = FoldedFusion.CanFold(fusionConfig) ? "folded" : "trained" });
            string fuseDir = run.Stage(StageNames.Fuse, fuseKey, tmp =>
            {
                var tokens = StageTensors.Load(Path.GetDirectoryName(fusionPath)!, "class_tokens");
                StageTensors.Save(tmp, "fused", Fuse(fusionPath, fusionConfig, modeLatents, labelsAll, tokens, settings));
            });
            clusterInput = StageTensors.Load(fuseDir, "fused");
            upstreamKey = fuseKey;
        }

        // Stage: per-class k-means of the scaled, flattened latents: MGD3's modes or D4M's prototypes.
        string modesKey = RunFolder.Key(new { stage = "modes", upstreamKey, o.Ipc, o.Seed, method = o.Method.ToString(), scale });
        string modesDir = run.Stage(StageNames.Modes, modesKey, tmp =>
        {
            // D4M clusters VAE samples (mean + σ·ε), MGD3/EVLF the posterior means (PIPELINES.md §2, §3, §6).
            var vectors = clusterInput * scale;
            if (o.Method == DistillMethod.D4m && !o.UsesFusion)
            {
                var logVar = where(flipMask, StageTensors.Load(latentDir, "logvar_flip"), StageTensors.Load(latentDir, "logvar"));
                vectors = (clusterInput + (logVar * 0.5).exp() * randn(clusterInput.shape, generator: new Generator(Seeds.Derive(o.Seed, SeedStream.PosteriorNoise)))) * scale;
            }
            StageTensors.Save(tmp, "modes", ClusterPerClass(vectors.flatten(1), labelsAll, dataset.ClassNames.Count, ct));
        });
        var modes = StageTensors.Load(modesDir, "modes");   // (classes, ipc, C·H·W)

        if (o.Finetune)
        {
            bundle = Finetune(bundle, denoiser, run, upstreamKey, clusterInput * scale, labelsAll, runtime, ct);
            manifest["finetuned_bundle"] = bundle.Directory;
        }

        string sampleKey = RunFolder.Key(new
        {
            stage = "sample", modesKey, bundleKey, finetune = o.Finetune, o.Ipc, o.Seed, o.Steps, cfg = o.GuidanceScale,
            o.ModeGuidanceLambda, o.ModeGuidanceStopT, o.Strength, o.NegativePrompt, method = o.Method.ToString(), o.DitGuidanceChannels,
        });
        return run.Stage(StageNames.Sample, sampleKey, tmp =>
        {
            using var sampler = new BundleRuntime(bundle, settings);
            using var writer = SyntheticSetWriter.Create(Path.Combine(tmp, "set"), m.Classes, m.Image.Channels);
            var options = new SampleOptions(o.Steps, o.GuidanceScale, o.DitGuidanceChannels);
            for (int c = 0; c < m.Classes.Count; c++)
            {
                ct.ThrowIfCancellationRequested();
                using var classScope = NewDisposeScope();
                var generator = new Generator(Seeds.Derive(o.Seed, SeedStream.ClassSampling, c));
                var classModes = modes[c];
                var stepProgress = new InlineProgress<int>(i => progress($"sample {m.Classes[c]}", o.Steps - i, o.Steps, null));
                var latents = o.Method switch
                {
                    DistillMethod.Mgd3 => sampler.Sample(denoiser, c, o.Ipc, options, generator, modes: classModes,
                        modeGuidance: new ModeGuidanceOptions(o.ModeGuidanceLambda, o.ModeGuidanceStopT), progress: stepProgress, cancellationToken: ct),
                    DistillMethod.D4m => sampler.Sample(denoiser, c, o.Ipc, options, generator,
                        start: classModes.reshape(o.Ipc, m.Latent.Channels, m.Latent.Size, m.Latent.Size), strength: o.Strength,
                        negativePrompt: o.NegativePrompt, progress: stepProgress, cancellationToken: ct),
                    _ => sampler.Sample(denoiser, c, o.Ipc, options, generator, progress: stepProgress, cancellationToken: ct),
                };
                var images = sampler.Decode(latents);
                for (int k = 0; k < o.Ipc; k++) writer.Add(c, BundleImages.ToByteImage(images[k]));
                progress($"sample {m.Classes[c]}", o.Steps, o.Steps, null);
            }
            writer.Commit();
        });
    }

    /// <summary>The checks of a generative run against its bundle and data, before any stage.</summary>
    void CheckGenerative(ModelBundle bundle, ImageDataset dataset)
    {
        string denoiser = RequireDenoiser(bundle);
        if (o.UsesFusion)
        {
            RequireTextEncoder(bundle);
            FusionTrainer.RequireOptimizerSteps(dataset.Train.Count, o.FusionTraining);
        }
        CheckBundleFits(bundle, dataset);
        BundleRuntime.CheckSampling(bundle, denoiser, new SampleOptions(o.Steps, o.GuidanceScale, o.DitGuidanceChannels),
            o.Method == DistillMethod.D4m ? o.Strength : null);
        if (!(o.ModeGuidanceLambda >= 0 && double.IsFinite(o.ModeGuidanceLambda)))
            throw new UserInputException($"--mode-lambda must be a finite number of at least 0; got {o.ModeGuidanceLambda}.");
        var d = bundle.Denoiser(denoiser);
        if (o.Finetune && (d.FinetunePattern is null || !OnnxModel.Load(bundle.PathOf(d.File)).Graph.Initializer.Any(t => Regex.IsMatch(t.Name, d.FinetunePattern))))
            throw new UserInputException($"--finetune needs trainable denoiser weights, but denoiser '{denoiser}' of bundle '{o.Bundle}' declares {(d.FinetunePattern is null ? "no finetune pattern" : $"a finetune pattern '{d.FinetunePattern}' that matches none of its weights")}.");
    }

    /// <summary>The run's outputs (--out, --cache) apart from its inputs (--data, --bundle), before anything is written.</summary>
    void RequireApart(ModelBundle? bundle)
    {
        var inputs = new List<PathsApart.Named> { new("--data", PathsApart.DataFolder(o.Data)) };
        if (bundle is not null) inputs.Add(new("--bundle", bundle.Directory));
        PathsApart.Require([new("--out", o.Out), new("--cache", o.Cache)], inputs);
    }

    string RequireDenoiser(ModelBundle bundle)
    {
        string kind = o.Method == DistillMethod.D4m ? DenoiserSpec.UNetText : DenoiserSpec.DitClass;
        var match = bundle.Manifest.Denoisers.FirstOrDefault(kv => kv.Value.Kind == kind);
        if (match.Key is null)
            throw new UserInputException($"Method '{o.Method.ToString().ToLowerInvariant()}' needs a {kind} denoiser, but bundle '{o.Bundle}' has only: {string.Join(", ", bundle.Manifest.Denoisers.Select(kv => $"{kv.Key} ({kv.Value.Kind})"))}.");
        if (o.Method == DistillMethod.D4m && bundle.Manifest.TextEncoder is null)
            throw new UserInputException($"Method 'd4m' needs a text encoder, but bundle '{o.Bundle}' has none.");
        return match.Key;
    }

    void Encode(BundleRuntime runtime, Tensor images, string task, out Tensor mean, out Tensor logVar)
    {
        var means = new List<Tensor>();
        var logVars = new List<Tensor>();
        const int batch = 500;
        // ONNX Runtime runs the default VAE encoder ~20% faster per image in calls of 64–100 than of 500 (406 vs
        // 513 µs/image on this 2-core machine, 2 threads): the activations of a smaller call stay in cache.
        const int encoderCall = 100;
        for (long start = 0; start < images.shape[0]; start += batch)
        {
            var (mu, lv) = runtime.Encode(images.narrow(0, start, Math.Min(batch, images.shape[0] - start)), encoderCall);
            means.Add(mu);
            logVars.Add(lv);
            progress(task, Math.Min(start + batch, images.shape[0]), images.shape[0], null);
        }
        mean = cat(means, 0);
        logVar = cat(logVars, 0);
    }

    (string FusionPath, string Key, FusionConfig Config) TrainFusion(ModelBundle bundle, BundleRuntime runtime, RunFolder run, string latentDir, string latentKey,
        ImageDataset dataset, JsonObject manifest, CancellationToken ct)
    {
        var m = bundle.Manifest;
        var textConfig = RequireTextEncoder(bundle);
        // The released code conditions on the raw class string (PIPELINES.md §2); the bundle template is an option.
        var prompts = Enumerable.Range(0, m.Classes.Count).Select(c => o.FusionUsesPromptTemplate ? m.Prompt(c) : (m.PromptNames ?? m.Classes)[c]).ToList();
        var config = o.Fusion ?? new FusionConfig(m.Latent.Channels, m.Latent.Size, TextDim: 0, TextLength: 0);
        string textKey = RunFolder.Key(new { stage = "text", prompts, text = JsonSerializer.Serialize(textConfig) });
        string textDir = run.Stage(StageNames.Text, textKey, tmp =>
        {
            using var embeddings = runtime.TextEncoder.Encode(prompts);
            StageTensors.Save(tmp, "class_tokens", embeddings.Tokens);
            StageTensors.Save(tmp, "class_vectors", embeddings.Pooled);
        });
        var tokens = StageTensors.Load(textDir, "class_tokens");
        var vectors = StageTensors.Load(textDir, "class_vectors");
        config = config with { TextDim = (int)tokens.shape[2], TextLength = (int)tokens.shape[1] };

        string key = RunFolder.Key(new { stage = "fusion", latentKey, textKey, config, training = o.FusionTraining, o.Seed });
        string work = run.WorkFolder("fusion", key);
        string dir = run.Stage(StageNames.Fusion, key, tmp =>
        {
            var data = new FusionData(StageTensors.Load(latentDir, "mean"), StageTensors.Load(latentDir, "labels"), tokens, vectors, StageTensors.Load(latentDir, "mean_flip"));
            var result = FusionTrainer.Train(config, data, o.FusionTraining, o.Seed, work, Steps(), ct);
            File.Copy(result.FusionPath, Path.Combine(tmp, "fusion.onnx"));
            File.Copy(result.ProjectorPath, Path.Combine(tmp, "projector.onnx"));
            File.Copy(Path.Combine(work, "fusion-log.json"), Path.Combine(tmp, "fusion-log.json"));
            StageTensors.Save(tmp, "class_tokens", tokens);
            StageTensors.Save(tmp, "class_vectors", vectors);
            // The module's quality on the test split, which it never saw: latent kept, classes separated.
            using var testScope = NewDisposeScope();
            var testImages = BundleImages.Load(dataset.Test, m.Image.Size, m.Image.Channels, progress: new InlineProgress<int>(n => progress("load test images", n, dataset.Test.Count, null)));
            Encode(runtime, testImages, "encode test", out var testMean, out _);
            var testLabels = tensor(dataset.Test.Labels().Select(l => (long)l).ToArray());
            var quality = FusionEvaluation.Measure(Path.Combine(tmp, "fusion.onnx"), Path.Combine(tmp, "projector.onnx"), testMean, testLabels, tokens, vectors, new SessionSettings(o.Device), config);
            File.WriteAllText(Path.Combine(tmp, "fusion-test.json"), JsonSerializer.Serialize(quality));
        });
        Directory.Delete(work, true);
        manifest["fusion"] = new JsonObject
        {
            ["config"] = JsonSerializer.SerializeToNode(config),
            ["prompts"] = new JsonArray(prompts.Select(p => (JsonNode)p).ToArray()),
            ["log"] = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "fusion-log.json"))),
            ["test"] = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "fusion-test.json"))),
        };
        return (Path.Combine(dir, "fusion.onnx"), key, config);
    }

    /// <summary>EVLF stage B: the trained fusion module (ONNX Runtime, eval, clean class text, folded) on every latent.</summary>
    Tensor Fuse(string fusionPath, FusionConfig config, Tensor latents, Tensor labels, Tensor classTokens, SessionSettings settings) =>
        FusionEvaluation.Fuse(fusionPath, latents, labels, classTokens, settings, config, new InlineProgress<(long Done, long Total)>(p => progress("fuse", p.Done, p.Total, null)));

    Tensor ClusterPerClass(Tensor vectors, Tensor labels, int classes, CancellationToken ct)
    {
        var result = new List<Tensor>();
        for (int c = 0; c < classes; c++)
        {
            ct.ThrowIfCancellationRequested();
            var rows = vectors.index_select(0, labels.eq(c).nonzero().flatten());
            result.Add(ClusterClass(rows, c));
            progress("k-means", c + 1, classes, null);
        }
        return stack(result, 0);
    }

    /// <summary>k = IPC k-means of one class, k-means++ with one init, seeded as the anchors (random_state = seed for every class).</summary>
    Tensor ClusterClass(Tensor rows, int classIndex)
    {
        using var prototypes = Prototypes.ForClass(rows, o.Ipc, new PrototypeOptions(new KMeansOptions(Seed: o.Seed)));
        return prototypes.Vectors.clone();
    }

    ModelBundle Finetune(ModelBundle bundle, string denoiser, RunFolder run, string upstreamKey, Tensor scaledLatents, Tensor labels,
        BundleRuntime runtime, CancellationToken ct)
    {
        var d = bundle.Denoiser(denoiser);
        string key = RunFolder.Key(new { stage = "finetune", upstreamKey, denoiser, bundle = RunFolder.FileHash(bundle.PathOf(d.File)), o.FinetuneSteps, o.FinetuneLearningRate, o.Seed });
        string work = run.WorkFolder("finetune", key);
        string dir = run.Stage(StageNames.Finetune, key, tmp =>
        {
            var data = new LatentSet(scaledLatents, zeros_like(scaledLatents), labels);
            var stageOptions = new DenoiserTrainingOptions(Steps: o.FinetuneSteps, BatchSize: 32, LearningRate: o.FinetuneLearningRate, EmaDecay: 0.99, CheckpointEvery: 100);
            var import = new ImportOptions(new Regex(d.FinetunePattern!));
            var schedule = BundleRuntime.ToOptions(d.Schedule);
            Func<OnnxModel> load = () => OnnxModel.Load(bundle.PathOf(d.File));
            DenoiserTrainingResult result;
            if (d.Kind == DenoiserSpec.DitClass)
                result = DenoiserTraining.TrainDit(denoiser, load, import, schedule, bundle.Manifest.Latent.Channels, d.NullClass!.Value, d.LearnedSigma,
                    data, stageOptions, o.Seed, work, Steps(), ct);
            else
            {
                var prompts = Enumerable.Range(0, bundle.Manifest.Classes.Count).Select(bundle.Manifest.Prompt).ToList();
                using var classText = runtime.TextEncoder.Encode(prompts);
                using var empty = runtime.TextEncoder.Encode(new[] { "" });
                result = DenoiserTraining.TrainUNet(denoiser, load, import, schedule, data, classText.Tokens, empty.Tokens, stageOptions, o.Seed, work, Steps(), ct);
            }
            // A new bundle: the same files and manifest, with the fine-tuned denoiser.
            string bundleDir = Path.Combine(tmp, "bundle");
            Directory.CreateDirectory(bundleDir);
            // Regular files only, links only where they stay inside the bundle: a FIFO would block, a link out would leak.
            foreach (var file in Directory.GetFiles(bundle.Directory))
            {
                var name = Path.GetFileName(file);
                if (!PathStatus.Of(file).IsRegular || ConfinedPath.TryResolve(bundle.Directory, name, out _) is not string source) continue;
                File.Copy(source, Path.Combine(bundleDir, name));
            }
            File.Copy(result.ModelPath, Path.Combine(bundleDir, d.File), overwrite: true);
        });
        Directory.Delete(work, true);
        return ModelBundle.Load(Path.Combine(dir, "bundle"));
    }

    /// <summary>Copies the finished set into OUT/images and OUT/manifest.json (manifest last: its presence means complete).</summary>
    static int Publish(string stageDir, RunFolder run, JsonObject manifest) =>
        SyntheticSetWriter.Publish(Path.Combine(stageDir, "set"), run.Output, manifest);
}
