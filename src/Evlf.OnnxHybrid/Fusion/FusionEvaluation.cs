using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Fusion;

/// <summary>
/// How well a trained fusion module keeps the latent and separates the classes, on held-out latents:
/// <see cref="MseRatio"/> = mean((z_fused − z)²) / mean(z²) (Eq. 9's term, relative), and
/// <see cref="Top1"/> = InfoNCE top-1 class retrieval of the projected fused latents against the class text vectors.
/// </summary>
public sealed record FusionQuality(long Samples, double MseRatio, double Top1);

/// <summary>EVLF stage B (the fusion module applied with clean class text) and its held-out measurement, in ONNX Runtime.</summary>
public static class FusionEvaluation
{
    /// <summary>Latents per ONNX Runtime call (and per unit of work a shard of the fuse stage takes).</summary>
    internal const int Batch = 500;

    /// <summary>
    /// Runs the fusion module on <paramref name="latents"/> (N×C×H×W posterior means), each conditioned on its class's
    /// token embeddings <paramref name="classTokens"/>[label], in batches of 500. With <paramref name="config"/> (the
    /// module's architecture) and a module <see cref="FoldedFusion.CanFold"/> accepts, ONNX Runtime runs the folded
    /// graph (<see cref="FoldedFusion"/>): the same function with about a third less arithmetic; without it, the
    /// trained graph as saved.
    /// </summary>
    public static Tensor Fuse(string fusionPath, Tensor latents, Tensor labels, Tensor classTokens, SessionSettings settings,
        FusionConfig? config = null, IProgress<WorkProgress>? progress = null) =>
        Fuse(fusionPath, latents, labels, classTokens, settings, Batch, config, progress);

    /// <summary><see cref="Fuse(string, Tensor, Tensor, Tensor, SessionSettings, FusionConfig?, IProgress{WorkProgress}?)"/> in calls of <paramref name="batch"/> latents.</summary>
    internal static Tensor Fuse(string fusionPath, Tensor latents, Tensor labels, Tensor classTokens, SessionSettings settings, int batch,
        FusionConfig? config = null, IProgress<WorkProgress>? progress = null)
    {
        bool folded = config is { } c && FoldedFusion.CanFold(c);
        using var session = folded
            ? OnnxSession.FromModel(FoldedFusion.Build(OnnxModel.Load(fusionPath), config!, classTokens), settings, label: fusionPath + " (folded)")
            : OnnxSession.Open(fusionPath, settings);
        var parts = new List<Tensor>();
        long total = latents.shape[0];
        for (long start = 0; start < total; start += batch)
        {
            using var scope = NewDisposeScope();
            long n = Math.Min(batch, total - start);
            var batchLabels = labels.narrow(0, start, n);
            var inputs = new Dictionary<string, Tensor> { [CrossAttentionFusion.LatentInput] = latents.narrow(0, start, n) };
            if (folded) inputs[FoldedFusion.ClassInput] = batchLabels.to(ScalarType.Int64);
            else inputs[CrossAttentionFusion.TextInput] = classTokens.index_select(0, batchLabels);
            parts.Add(session.Run(inputs)[CrossAttentionFusion.FusedOutput].MoveToOuterDisposeScope());
            progress?.Report(new WorkProgress("fuse", start + n, total));
        }
        var fused = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return fused;
    }

    /// <summary>Measures <see cref="FusionQuality"/> of a trained fusion module and projector on the given latents (<paramref name="config"/>: as in <see cref="Fuse(string, Tensor, Tensor, Tensor, SessionSettings, FusionConfig?, IProgress{WorkProgress}?)"/>).</summary>
    public static FusionQuality Measure(string fusionPath, string projectorPath, Tensor latents, Tensor labels, Tensor classTokens,
        Tensor classVectors, SessionSettings settings, FusionConfig? config = null)
    {
        using var scope = NewDisposeScope();
        var fused = Fuse(fusionPath, latents, labels, classTokens, settings, config);
        using var projector = OnnxSession.Open(projectorPath, settings);
        var projected = new List<Tensor>();
        for (long start = 0; start < fused.shape[0]; start += Batch)
        {
            long n = Math.Min(Batch, fused.shape[0] - start);
            projected.Add(projector.Run(new Dictionary<string, Tensor> { [CrossAttentionFusion.ProjectorInput] = fused.narrow(0, start, n) })
                [CrossAttentionFusion.ProjectorOutput]);
        }
        var z = latents.to(ScalarType.Float64);
        double ratio = (fused.to(ScalarType.Float64) - z).square().mean().item<double>() / z.square().mean().item<double>();
        double top1 = FusionLosses.Top1Retrieval(cat(projected, 0), classVectors, labels);
        return new FusionQuality(latents.shape[0], ratio, top1);
    }
}
