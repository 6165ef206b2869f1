using Evlf.OnnxHybrid.Clustering;
using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>The latents the modes cluster (zImg, or zFused with EVLF, unscaled) and the key of the stage they come from.</summary>
internal sealed record ClusterInput(Tensor Latents, string Key);

/// <summary>The modes (MGD3) or prototypes (D4M): (classes, ipc, C·H·W) scaled latents, and the modes stage's key.</summary>
/// <param name="Vectors">(classes, ipc, C·H·W) scaled latents: the centres, or the closest real latents.</param>
/// <param name="Key">The modes stage's cache key.</param>
/// <param name="Nearest">(classes, ipc): the training image whose clustered latent lies closest to each cluster centre,
/// each image at most once per class (<see cref="ModeKind.ClosestReal"/> keeps those latents; <see cref="SampleStart.Real"/>
/// starts from them); with <see cref="SampleStart.RealNeighbours"/>, (classes, candidates · ipc): round r of
/// <see cref="Prototypes.ClosestRows(Tensor, Tensor, int)"/> at r · ipc, so row n belongs to mode n mod ipc.</param>
internal sealed record Modes(Tensor Vectors, string Key, Tensor Nearest);

/// <summary>
/// Stage: per-class k-means (k = ipc) of the scaled, flattened latents: MGD3's modes or D4M's prototypes. D4M without EVLF
/// clusters VAE samples (mean + σ·ε), MGD3 and EVLF the posterior means (docs/PIPELINES.md §2, §3, §6). With
/// <see cref="ModeKind.ClosestReal"/> each centre is replaced by the clustered row closest to it; with
/// <see cref="ModeKind.Herding"/> there is no k-means: the modes are the rows of the images herding picks.
/// </summary>
internal static class ModesStage
{
    public static Modes Run(StageContext context, ClusterInput input, ModeLatents latents, double scale)
    {
        var options = context.Options;
        string key = RunFolder.Key(new
        {
            stage = StageNames.Modes, upstreamKey = input.Key, options.Ipc, options.Seed, method = options.Method.ToString(), scale,
            // Herding's picks depend on its embedding network's settings too (the data is in the upstream key).
            kind = options.Modes == ModeKind.Herding ? $"{options.Modes} {options.HerdingEmbedding} {Herding.Kernels}"
                : options.Modes + (options.StartsPerMode > 1 ? $" starts {options.StartsPerMode}" : ""),
        });
        string folder = context.Run.Stage(StageNames.Modes, key, tmp =>
        {
            var vectors = input.Latents * scale;
            if (options.Method == DistillMethod.D4m && !options.UsesFusion)
            {
                string latentsFolder = latents.Encoded.Folder;
                var logVar = where(latents.FlipMask, StageTensors.Load(latentsFolder, "logvar_flip"), StageTensors.Load(latentsFolder, "logvar"));
                var epsilon = randn(input.Latents.shape, generator: new Generator(Seeds.Derive(options.Seed, SeedStream.PosteriorNoise)));
                vectors = (input.Latents + (logVar * 0.5).exp() * epsilon) * scale;
            }
            var (modes, nearest) = options.Modes == ModeKind.Herding
                ? HerdedPerClass(context, vectors.flatten(1))
                : ClusterPerClass(context, vectors.flatten(1), latents.Labels);
            StageTensors.Save(tmp, "modes", modes);
            StageTensors.Save(tmp, "nearest", nearest);
        });
        return new Modes(StageTensors.Load(folder, "modes"), key, StageTensors.Load(folder, "nearest"));
    }

    /// <summary>The rows (training indices: the latents hold every training image) of the images herding picks per class.</summary>
    static (Tensor Modes, Tensor Nearest) HerdedPerClass(StageContext context, Tensor vectors)
    {
        var picks = SelectStage.Herded(context);
        var nearest = stack(picks.Select(p => tensor(p.Select(i => (long)i).ToArray())).ToArray(), 0);
        return (stack(picks.Select((_, c) => vectors.index_select(0, nearest[c])).ToArray(), 0), nearest);
    }

    static (Tensor Modes, Tensor Nearest) ClusterPerClass(StageContext context, Tensor vectors, Tensor labels)
    {
        int classes = context.Dataset.ClassNames.Count;
        var modes = new List<Tensor>();
        var nearest = new List<Tensor>();
        for (int c = 0; c < classes; c++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var index = labels.eq(c).nonzero().flatten();
            var rows = vectors.index_select(0, index);
            // k-means++ with one init, seeded as the reference does (random_state = seed for every class).
            using var prototypes = Prototypes.ForClass(rows, context.Options.Ipc, new PrototypeOptions(new KMeansOptions(Seed: context.Options.Seed)));
            var closest = Prototypes.ClosestRows(rows, prototypes.Vectors, context.Options.StartsPerMode);
            modes.Add(context.Options.Modes == ModeKind.ClosestReal ? rows.index_select(0, closest.narrow(0, 0, context.Options.Ipc)) : prototypes.Vectors.clone());
            nearest.Add(index.index_select(0, closest));
            context.Report("k-means", c + 1, classes);
        }
        return (stack(modes, 0), stack(nearest, 0));
    }
}
