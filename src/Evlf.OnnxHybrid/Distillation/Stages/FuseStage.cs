using Evlf.OnnxHybrid.Fusion;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// EVLF stage B: zFused = the trained fusion module (ONNX Runtime, eval, clean class text, folded where it can be) on
/// every training image's zImg, which the modes then cluster instead of zImg.
/// </summary>
internal static class FuseStage
{
    public static ClusterInput Run(StageContext context, FusionModule module, ModeLatents latents)
    {
        var options = context.Options;
        // "folded": the stage runs FoldedFusion's graph (same function, other rounding), so older caches are not reused.
        string key = RunFolder.Key(new
        {
            stage = StageNames.Fuse, fusionKey = module.Key, options.Seed, options.FlipForModes,
            graph = FoldedFusion.CanFold(module.Config) ? "folded" : "trained",
        });
        string folder = context.Run.Stage(StageNames.Fuse, key, tmp =>
        {
            var classTokens = StageTensors.Load(module.Folder, "class_tokens");
            var zFused = FusionEvaluation.Fuse(module.FusionPath, latents.ZImg, latents.Labels, classTokens, context.Settings, module.Config,
                new InlineProgress<(long Done, long Total)>(p => context.Report("fuse", p.Done, p.Total)));
            StageTensors.Save(tmp, "fused", zFused);
        });
        return new ClusterInput(StageTensors.Load(folder, "fused"), key);
    }
}
