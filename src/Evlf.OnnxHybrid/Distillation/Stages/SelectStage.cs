using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// random and herding: <see cref="DistillOptions.Ipc"/> real training images per class, chosen at random
/// (<see cref="RandomSelection"/>) or by herding (<see cref="Herding"/>), written as the synthetic set. The whole recipe
/// of the real-image baselines.
/// </summary>
internal static class SelectStage
{
    /// <summary>The stage folder; the set is its <c>set/</c> subfolder.</summary>
    public static string Run(StageContext context)
    {
        // Inputs: the method, ipc, seed and data; herding also its embedding network's options.
        var options = context.Options;
        var dataset = context.Dataset;
        var herding = options.HerdingEmbedding;
        string key = RunFolder.Key(new
        {
            stage = StageNames.Select, method = options.Method.ToString(), options.Ipc, options.Seed, dataId = context.DataId, herding, kernels = Herding.Kernels,
        });
        return context.Run.Stage(StageNames.Select, key, tmp =>
        {
            var chosen = options.Method == DistillMethod.Herding
                ? Herded(context)
                : RandomSelection.Select(dataset.Train, dataset.ClassNames.Count, options.Ipc, options.Seed);
            RealSubset.Write(dataset, chosen, Path.Combine(tmp, SampleStage.SetFolder), options.Method.ToString().ToLowerInvariant());
        });
    }

    /// <summary>Herding's ipc picks per class (indices into the training split), in the embedding stage's network's features.</summary>
    internal static int[][] Herded(StageContext context)
    {
        var byClass = Herding.ByClass(context.Dataset, context.Options.Ipc);
        var (net, _) = EmbeddingStage.Run(context);
        using var _ = net;
        return Herding.Select(context.Dataset, byClass, context.Options.Ipc, net, DatasetNormalization.For(context.Dataset), context.Progress, context.CancellationToken);
    }
}
