using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Sharding;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// EVLF stage B: zFused = the trained fusion module (ONNX Runtime, eval, clean class text, folded where it can be) on
/// every training image's zImg, which the modes then cluster instead of zImg.
/// </summary>
internal static class FuseStage
{
    /// <summary>The file a shard's part of the stage holds: safetensors with <c>start</c> (its first image) and <c>fused</c> (its rows).</summary>
    public const string PartFile = "fused.safetensors";

    public static ClusterInput Run(StageContext context, FusionModule module, ModeLatents latents)
    {
        var options = context.Options;
        // "folded": the stage runs FoldedFusion's graph (same function, other rounding), so older caches are not reused.
        string key = RunFolder.Key(new
        {
            stage = StageNames.Fuse, fusionKey = module.Key, options.Seed, options.FlipForModes,
            graph = FoldedFusion.CanFold(module.Config) ? "folded" : "trained",
        });
        var classTokens = StageTensors.Load(module.Folder, "class_tokens");
        Tensor Fuse(Tensor zImg, Tensor labels) => FusionEvaluation.Fuse(module.FusionPath, zImg, labels, classTokens, context.Settings, options.FuseBatch, module.Config,
            context.Progress);
        // Split over shards by contiguous ranges of images, in whole batches of the fusion module's calls.
        int n = (int)latents.ZImg.shape[0];
        string folder = ShardedStage.Run(context, StageNames.Fuse, key,
            whole: tmp => StageTensors.Save(tmp, "fused", Fuse(latents.ZImg, latents.Labels)),
            part: (tmp, part, parts) =>
            {
                var (start, length) = Partition.UnitRange(n, options.FuseBatch, parts, part);
                var tensors = new Dictionary<string, Tensor> { ["start"] = tensor(new long[] { start }) };
                if (length > 0) tensors["fused"] = Fuse(latents.ZImg.narrow(0, start, length), latents.Labels.narrow(0, start, length));
                SafeTensors.Save(Path.Combine(tmp, PartFile), tensors, new Dictionary<string, string> { ["evlf"] = "fuse part" });
            },
            merge: (tmp, parts) =>
            {
                var fused = parts.Select(p => SafeTensors.Load(Path.Combine(p, PartFile))).Where(t => t.ContainsKey("fused")).Select(t => t["fused"]).ToList();
                StageTensors.Save(tmp, "fused", cat(fused, 0));
            });
        return new ClusterInput(StageTensors.Load(folder, "fused"), key);
    }
}
