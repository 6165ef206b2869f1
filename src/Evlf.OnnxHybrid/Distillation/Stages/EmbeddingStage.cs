using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Stage: herding's embedding network (<see cref="DistillOptions.HerdingEmbedding"/>), trained once on the real training
/// split and kept as its weights for every stage that embeds with it: the herding baseline (<see cref="SelectStage"/>),
/// <see cref="ModeKind.Herding"/> (<see cref="ModesStage"/>) and the choice among candidates (<see cref="ChooseStage"/>).
/// A run that needs it twice, or runs that share a stage cache, train it once.
/// </summary>
internal static class EmbeddingStage
{
    const string WeightsFile = "embedding.dat";

    /// <summary>The trained network (eval mode; the caller disposes it) and the training images it saw (indices into the training split).</summary>
    public static (ConvNet Net, int[] Seen) Run(StageContext context)
    {
        var options = context.Options.HerdingEmbedding;
        var dataset = context.Dataset;
        string key = RunFolder.Key(new { stage = StageNames.Embedding, options, dataId = context.DataId, kernels = Herding.Kernels });
        string folder = context.Run.Stage(StageNames.Embedding, key, tmp =>
        {
            using var net = Herding.TrainEmbedding(dataset, DatasetNormalization.For(dataset), options, context.Progress, context.CancellationToken);
            net.save(Path.Combine(tmp, WeightsFile));
        });
        return Herding.LoadEmbedding(dataset, options, Path.Combine(folder, WeightsFile));
    }
}
