using System.Globalization;
using System.Text.Json;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Sharding;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>The latents stage's folder: <c>mean</c>, <c>logvar</c> (plain and <c>_flip</c>) and <c>labels</c>.</summary>
/// <param name="Folder">The stage folder; rows the run does not read hold NaN.</param>
/// <param name="EncoderKey">Identifies the encoder, data and image space alone: the fusion stage keys on it, so a module
/// trained by one run serves any other with the same inputs.</param>
internal sealed record EncodedLatents(string Folder, string EncoderKey);

/// <summary>zImg as the modes (and the fuse stage) read it.</summary>
/// <param name="Encoded">The stage folder it was read from.</param>
/// <param name="UpstreamKey">What the modes key on when nothing is fused in between: the encoder and the rows read.</param>
/// <param name="FlipMask">(n, 1, 1, 1): image i is clustered in its flipped view.</param>
/// <param name="ZImg">Each training image's posterior mean in the view its coin picks (unscaled).</param>
/// <param name="Labels">The class of each training image.</param>
internal sealed record ModeLatents(EncodedLatents Encoded, string UpstreamKey, Tensor FlipMask, Tensor ZImg, Tensor Labels);

/// <summary>
/// Stage: VAE posteriors (mean and log-variance) of the training images, plain and flipped (flips: fusion's augmentation
/// and the modes' random flip), for the rows a run reads (<see cref="LatentRows"/>); the other rows hold NaN. Encoding only
/// what the run reads saves about 40% of the encoder calls against every image both ways (the modes read one view per
/// image, the fusion pool both).
/// </summary>
internal static class LatentsStage
{
    /// <summary>
    /// The latents a distill reads: each image's view by its seeded flip coin (<see cref="SeedStream.ModeFlips"/>), and
    /// with <paramref name="fusion"/> both views of the fusion training pool.
    /// </summary>
    public static ModeLatents Run(StageContext context, ModelBundle bundle, BundleRuntime runtime, bool fusion)
    {
        var options = context.Options;
        long n = context.Dataset.Train.Count;
        // The modes' random flip: one seeded coin per image.
        var flipMask = options.FlipForModes
            ? rand(new[] { n, 1L, 1L, 1L }, generator: new Generator(Seeds.Derive(options.Seed, SeedStream.ModeFlips))).lt(0.5)
            : zeros(new[] { n, 1L, 1L, 1L }, dtype: ScalarType.Bool);
        var rows = LatentRows.ForModes(flipMask, fusion ? LatentRows.PoolMask(n, options) : null);
        var encoded = Produce(context, bundle, runtime, rows);
        var zImg = where(flipMask, StageTensors.Load(encoded.Folder, "mean_flip"), StageTensors.Load(encoded.Folder, "mean"));
        if (zImg.isnan().any().item<bool>())
            throw new InvalidDataException($"Stage folder '{encoded.Folder}' lacks latents this run reads; delete the run's .stages folder and run again.");
        // The modes of a run without fusion follow the latents it read (the rows name the coins' flips).
        string upstreamKey = RunFolder.Key(new { latentKey = encoded.EncoderKey, rows = rows.Key });
        return new ModeLatents(encoded, upstreamKey, flipMask, zImg, StageTensors.Load(encoded.Folder, "labels"));
    }

    /// <summary>
    /// The stage itself: encodes <paramref name="rows"/> of the training split, or finds them cached. Split over shards,
    /// each view's rows are cut into units of <see cref="DistillOptions.EncodeBatch"/> rows (the batches one process encodes) and each
    /// shard encodes a contiguous range of units, so every encoder call holds the same images as in one process.
    /// </summary>
    public static EncodedLatents Produce(StageContext context, ModelBundle bundle, BundleRuntime runtime, LatentRows rows)
    {
        var m = bundle.Manifest;
        var train = context.Dataset.Train;
        string encoderKey = RunFolder.Key(new
        {
            stage = StageNames.Latents, dataId = context.DataId, encoder = RunFolder.FileHash(bundle.PathOf(m.Vae.Encoder)),
            image = JsonSerializer.Serialize(m.Image), scale = m.Latent.ScalingFactor,
        });
        var views = new[] { (Mask: rows.Plain, Flip: false, Suffix: ""), (Mask: rows.Flipped, Flip: true, Suffix: "_flip") };
        string folder = ShardedStage.Run(context, StageNames.Latents, RunFolder.Key(new { encoderKey, rows = rows.Key }),
            whole: tmp =>
            {
                var images = BundleImages.Load(train, m.Image.Size, m.Image.Channels,
                    progress: context.Progress);
                foreach (var (mask, flip, suffix) in views)
                {
                    var index = mask.nonzero().flatten();
                    (Tensor Mean, Tensor LogVar)? encoded = index.shape[0] > 0 ? Encode(context, runtime, images.index_select(0, index), flip) : null;
                    SaveView(tmp, suffix, images.shape[0], m.Latent, index, encoded);
                }
                StageTensors.Save(tmp, "labels", Labels(train));
            },
            part: (tmp, part, parts) =>
            {
                var tensors = new Dictionary<string, Tensor>();
                foreach (var (mask, flip, suffix) in views)
                {
                    var index = mask.nonzero().flatten();
                    var (start, length) = Partition.UnitRange((int)index.shape[0], context.Options.EncodeBatch, parts, part);
                    index = index.narrow(0, start, length);
                    tensors["index" + suffix] = index;
                    if (length == 0) continue;
                    var rowList = index.data<long>().Select(i => (int)i).ToArray();
                    var images = BundleImages.Load(train, m.Image.Size, m.Image.Channels, rowList,
                        context.Progress);
                    var (mean, logVar) = Encode(context, runtime, images, flip);
                    tensors["mean" + suffix] = mean;
                    tensors["logvar" + suffix] = logVar;
                }
                SafeTensors.Save(Path.Combine(tmp, PartFile), tensors, new Dictionary<string, string>
                {
                    ["evlf"] = "latents part", ["part"] = part.ToString(CultureInfo.InvariantCulture), ["parts"] = parts.ToString(CultureInfo.InvariantCulture),
                });
            },
            merge: (tmp, parts) =>
            {
                var loaded = parts.Select(p => SafeTensors.Load(Path.Combine(p, PartFile))).ToList();
                foreach (var (_, _, suffix) in views)
                {
                    var withRows = loaded.Where(t => t.ContainsKey("mean" + suffix)).ToList();
                    var index = cat(loaded.Select(t => t["index" + suffix]).ToList(), 0);
                    var encoded = withRows.Count > 0
                        ? (cat(withRows.Select(t => t["mean" + suffix]).ToList(), 0), cat(withRows.Select(t => t["logvar" + suffix]).ToList(), 0))
                        : default((Tensor, Tensor)?);
                    SaveView(tmp, suffix, train.Count, m.Latent, index, encoded);
                }
                StageTensors.Save(tmp, "labels", Labels(train));
            });
        return new EncodedLatents(folder, encoderKey);
    }

    /// <summary>The file a shard's part of the stage holds: safetensors with <c>index</c>, <c>mean</c> and <c>logvar</c> of each view (suffix <c>_flip</c> for the flipped one).</summary>
    public const string PartFile = "latents.safetensors";

    /// <summary>Rows per batch the encoder is given, and per unit a shard takes (<see cref="DistillOptions.EncodeBatch"/>).</summary>
    public const int DefaultEncodeBatch = 500;

    static Tensor Labels(DatasetSplit train) => tensor(train.Labels().Select(l => (long)l).ToArray());

    /// <summary>Saves one view as (n, C, H, W) mean and log-variance, NaN outside the encoded rows <paramref name="index"/>.</summary>
    static void SaveView(string folder, string suffix, long n, Bundles.LatentSpec latent, Tensor index, (Tensor Mean, Tensor LogVar)? encoded)
    {
        var mean = full(n, latent.Channels, latent.Size, latent.Size, float.NaN);
        var logVar = mean.clone();
        if (encoded is var (encodedMean, encodedLogVar))
        {
            mean.index_copy_(0, index, encodedMean);
            logVar.index_copy_(0, index, encodedLogVar);
        }
        StageTensors.Save(folder, "mean" + suffix, mean);
        StageTensors.Save(folder, "logvar" + suffix, logVar);
    }

    /// <summary>The VAE posterior of <paramref name="images"/>, flipped left–right first with <paramref name="flip"/>.</summary>
    static (Tensor Mean, Tensor LogVar) Encode(StageContext context, BundleRuntime runtime, Tensor images, bool flip) =>
        Encode(context, runtime, flip ? images.flip(3) : images, flip ? "encode flipped" : "encode");

    /// <summary>The VAE posterior (mean, log-variance) of <paramref name="images"/>, reported as <paramref name="task"/>.</summary>
    public static (Tensor Mean, Tensor LogVar) Encode(StageContext context, BundleRuntime runtime, Tensor images, string task)
    {
        var means = new List<Tensor>();
        var logVars = new List<Tensor>();
        int batch = context.Options.EncodeBatch;
        // ONNX Runtime runs the default VAE encoder ~20% faster per image in calls of 64–100 than of 500 (406 vs
        // 513 µs/image on this 2-core machine, 2 threads): the activations of a smaller call stay in cache.
        const int encoderCall = 100;
        for (long start = 0; start < images.shape[0]; start += batch)
        {
            var (mu, lv) = runtime.Encode(images.narrow(0, start, Math.Min(batch, images.shape[0] - start)), encoderCall);
            means.Add(mu);
            logVars.Add(lv);
            context.Report(task, Math.Min(start + batch, images.shape[0]), images.shape[0]);
        }
        return (cat(means, 0), cat(logVars, 0));
    }
}
