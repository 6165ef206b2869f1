using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Sharding;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Stage: ipc images per class from the denoiser (ONNX Runtime with the C# samplers), decoded by the VAE and written as
/// the synthetic set. mgd3 guides sampling towards the modes, d4m runs img2img from the prototypes with the class
/// prompt and a negative prompt, dit samples plainly; <see cref="DistillOptions.Start"/> moves any of them to start from
/// noise, the modes or the closest real latents (one per mode, or one per candidate), <see cref="DistillOptions.RealDetail"/> keeps a real
/// start's pixel detail, <see cref="DistillOptions.OwnView"/> writes a real start's samples in its image's own orientation,
/// and <see cref="DistillOptions.GuidanceInterval"/> limits guidance. Each class draws from its own seeded stream
/// (<see cref="SeedStream.ClassSampling"/>), so a class's images do not depend on the others.
/// </summary>
internal static class SampleStage
{
    /// <summary>The stage folder's subfolder that holds the set (<see cref="SyntheticSetWriter"/>), for this stage and <see cref="SelectStage"/>.</summary>
    public const string SetFolder = "set";

    /// <summary>
    /// Samples from <paramref name="bundle"/> (the run's, or the fine-tuned one); <paramref name="bundleKey"/> identifies the
    /// run's bundle files before any fine-tuning. <paramref name="real"/>'s zImg (training images, C, H, W; unscaled, each
    /// in the view its flip coin picks) are the latents a <see cref="SampleStart.Real"/> run starts from, at the rows
    /// <see cref="Modes.Nearest"/> names. Returns the stage folder; the set is in its <see cref="SetFolder"/>.
    /// </summary>
    public static string Run(StageContext context, ModelBundle bundle, string denoiser, Modes modes, ModeLatents real, string bundleKey)
    {
        var options = context.Options;
        // Real detail and the own view join the start's name rather than the key's fields, so the keys of runs without them stay as they were.
        string start = options.SamplingStart + (options.RealDetail ? " with real detail" : "") + (options.OwnView ? " in its own view" : "");
        string key = RunFolder.Key(new
        {
            stage = StageNames.Sample, modesKey = modes.Key, bundleKey, finetune = options.Finetune, options.Ipc, options.Seed, options.Steps,
            cfg = options.GuidanceScale, options.ModeGuidanceLambda, options.ModeGuidanceStopT, options.Strength, options.NegativePrompt,
            method = options.Method.ToString(), options.DitGuidanceChannels, start,
            interval = options.GuidanceInterval?.ToString(), options.KeepBundleSize, options.Candidates,
        });
        int classes = bundle.Manifest.Classes.Count;
        // Split over shards by class ranges: each class draws from its own stream, so a class's images do not depend on
        // which process samples it.
        return ShardedStage.Run(context, StageNames.Sample, key,
            whole: tmp => SampleClasses(context, bundle, denoiser, modes, real, tmp, 0, classes),
            part: (tmp, part, parts) =>
            {
                var (first, count) = Partition.Range(classes, parts, part);
                SampleClasses(context, bundle, denoiser, modes, real, tmp, first, count);
            },
            merge: (tmp, parts) =>
            {
                var m = bundle.Manifest;
                using var writer = SyntheticSetWriter.Create(Path.Combine(tmp, SetFolder), m.Classes, m.Image.Channels);
                for (int part = 0; part < parts.Count; part++)
                {
                    string set = Path.Combine(parts[part], SetFolder);
                    var (first, count) = Partition.Range(classes, parts.Count, part);
                    var labels = SyntheticSetReader.Open(set).Train.Labels();
                    var perClass = Enumerable.Range(0, classes).Select(c => labels.Count(l => l == c)).ToArray();
                    for (int c = first; c < first + count; c++)
                        for (int k = 0; k < perClass[c]; k++) writer.AddCopy(c, set, k);
                }
                writer.Commit();
            });
    }

    /// <summary>Samples classes <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1 into a set in <paramref name="folder"/>'s <see cref="SetFolder"/>.</summary>
    static void SampleClasses(StageContext context, ModelBundle bundle, string denoiser, Modes modes, ModeLatents real, string folder, int first, int count)
    {
        var realLatents = real.ZImg;
        var options = context.Options;
        var m = bundle.Manifest;
        using var sampler = new BundleRuntime(bundle, context.Settings);
        using var writer = SyntheticSetWriter.Create(Path.Combine(folder, SetFolder), m.Classes, m.Image.Channels);
        int trainingSteps = bundle.Manifest.Denoisers[denoiser].Schedule.Steps;
        var sampling = new SampleOptions(options.Steps, options.GuidanceScale, options.DitGuidanceChannels,
            GuidedTimestep: options.GuidanceInterval is { } interval ? t => interval.Contains(t, trainingSteps) : null);
        var output = context.OutputImage();
        var latentShape = new long[] { options.Ipc, m.Latent.Channels, m.Latent.Size, m.Latent.Size };
        // Candidates M: each mode and start M times (row r follows mode r mod ipc), each with its own noise.
        int perClass = options.Ipc * options.Candidates;
        for (int c = first; c < first + count; c++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            using var classScope = NewDisposeScope();
            var generator = new Generator(Seeds.Derive(options.Seed, SeedStream.ClassSampling, c));
            var classModes = modes.Vectors[c].repeat(options.Candidates, 1);
            string task = $"sample {m.Classes[c]}";
            // The loop counts finished steps up; img2img runs fewer than options.Steps and the class ends at full below.
            var stepProgress = context.Progress.Renamed(task);
            // The training rows each sample starts from: one per mode, repeated for the candidates, or one per candidate
            // (row r of mode r mod ipc).
            var startRows = options.SamplingStart switch
            {
                SampleStart.Real => modes.Nearest[c].repeat(options.Candidates),
                SampleStart.RealNeighbours => modes.Nearest[c],
                _ => null,
            };
            var start = startRows is not null ? realLatents.index_select(0, startRows) * m.Latent.ScalingFactor
                : options.SamplingStart == SampleStart.Modes ? modes.Vectors[c].reshape(latentShape).repeat(options.Candidates, 1, 1, 1)
                : null;
            // Strength 0 decodes the starting latents as they are.
            var latents = start is not null && options.Strength == 0 ? start : sampler.Sample(denoiser, c, perClass, sampling, generator,
                modes: options.Method == DistillMethod.Mgd3 ? classModes : null,
                modeGuidance: new ModeGuidanceOptions(options.ModeGuidanceLambda, options.ModeGuidanceStopT),
                start: start, strength: options.Strength,
                negativePrompt: options.Method == DistillMethod.D4m ? options.NegativePrompt : null,
                progress: stepProgress, cancellationToken: context.CancellationToken);
            var images = sampler.Decode(latents);
            if (options.RealDetail) images = RealImages(context, m, real.FlipMask, startRows!) + images - sampler.Decode(start!);
            // Mirrored back in the bundle's image space, where the flipped view was made (LatentsStage), before the cut back.
            if (options.OwnView) images = FlippedByCoin(images, real.FlipMask, startRows!);
            for (int k = 0; k < perClass; k++) writer.Add(c, output(BundleImages.ToByteImage(images[k])));
            context.Report(task, options.Steps, options.Steps);
        }
        writer.Commit();
    }

    /// <summary>The training images at <paramref name="rows"/> in the bundle's image space, each in the view its flip coin picks (as its latent was encoded).</summary>
    static Tensor RealImages(StageContext context, BundleManifest m, Tensor flipMask, Tensor rows)
    {
        var images = BundleImages.Load(context.Dataset.Train, m.Image.Size, m.Image.Channels, [.. rows.data<long>().Select(i => (int)i)]);
        return FlippedByCoin(images, flipMask, rows);
    }

    /// <summary>
    /// <paramref name="images"/> (one per row of <paramref name="rows"/>) mirrored where the flip coin mirrored that training
    /// image: a plain image into the view its latent was encoded in, or a sample of a mirrored start back into its own.
    /// </summary>
    static Tensor FlippedByCoin(Tensor images, Tensor flipMask, Tensor rows) => where(flipMask.index_select(0, rows), images.flip(3), images);
}
