using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Stage (<see cref="DistillOptions.Candidates"/> &gt; 1): ipc images per class chosen among the sampled candidates. A
/// ConvNet trained briefly on the real training split (herding's embedding network, <see cref="HerdingOptions"/>) embeds
/// and classifies every candidate; candidates it assigns to another class are dropped (if fewer than ipc remain, the most
/// probable of the dropped ones fill up), and the rest are chosen by <see cref="DistillOptions.Selection"/> against the
/// class's real images the network trained on (their mean feature, or for kernel herding all of them), with
/// <see cref="DistillOptions.OnePerMode"/> one candidate of each mode first. The discriminative selection then refines
/// herding's choice against the real images of every class at once.
/// </summary>
internal static class ChooseStage
{
    /// <summary>Returns the stage folder; the set is in its <see cref="SampleStage.SetFolder"/>.</summary>
    public static string Run(StageContext context, string sampleStage)
    {
        var options = context.Options;
        var embedding = options.HerdingEmbedding;
        string key = RunFolder.Key(new
        {
            stage = StageNames.Choose, sampled = Path.GetFileName(sampleStage), options.Ipc,
            selection = options.Selection + (options.OnePerMode ? " one per mode" : "")
                + (options.Selection == CandidateSelection.Discriminative ? FormattableString.Invariant($" temperature {CandidateChoice.DiscriminativeTemperature}") : ""),
            embedding, kernels = Herding.Kernels, dataId = context.DataId,
        });
        return context.Run.Stage(StageNames.Choose, key, tmp =>
        {
            var dataset = context.Dataset;
            var normalization = DatasetNormalization.For(dataset);
            var probe = dataset.Train.Load(0);
            var (net, seen) = EmbeddingStage.Run(context);
            using var _ = net;
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            var real = LabelledImages.Load(dataset.Train, normalization, dataset.Channels, probe.Height, probe.Width, seen);
            var realFeatures = Herding.Embed(net, real.Images);

            var candidates = SyntheticSetReader.Open(Path.Combine(sampleStage, SampleStage.SetFolder), new DatasetOptions(Channels: dataset.Channels));
            var byClass = RandomSelection.IndicesByClass(candidates.Train, dataset.ClassCount);
            using var writer = SyntheticSetWriter.Create(Path.Combine(tmp, SampleStage.SetFolder), dataset.ClassNames, dataset.Channels);
            var keptFeatures = new Tensor[dataset.ClassCount];
            var keptRows = new long[dataset.ClassCount][];
            var picks = new int[dataset.ClassCount][];
            // The mode of each kept candidate, per class, where the choice keeps one of each mode first.
            var modesOf = options.OnePerMode ? new Tensor[dataset.ClassCount] : null;
            for (int c = 0; c < dataset.ClassCount; c++)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                var images = LabelledImages.Load(candidates.Train, normalization, dataset.Channels, probe.Height, probe.Width, byClass[c]);
                var features = Herding.Embed(net, images.Images);
                var logits = net.Classify(features);
                var realOfClass = realFeatures.index_select(0, real.Labels.eq(c).nonzero().flatten());
                var target = realOfClass.mean([0]);
                var kept = CandidateChoice.Assigned(logits.softmax(1)[.., c], logits.argmax(1).eq(c), options.Ipc);
                // Candidate row r of a class follows mode r mod ipc (SampleStage).
                Tensor? modeOf = null;
                if (modesOf is not null) modeOf = modesOf[c] = kept.remainder(options.Ipc);
                keptFeatures[c] = features.index_select(0, kept);
                keptRows[c] = kept.data<long>().ToArray();
                picks[c] = options.Selection switch
                {
                    CandidateSelection.KCenter => CandidateChoice.KCenter(keptFeatures[c], options.Ipc, target, modeOf),
                    CandidateSelection.KernelHerding => CandidateChoice.KernelHerding(keptFeatures[c], options.Ipc, realOfClass, modeOf),
                    _ => Herding.Select(keptFeatures[c], options.Ipc, target, modeOf),
                };
                context.Report("choose", c + 1, dataset.ClassCount);
            }
            if (options.Selection == CandidateSelection.Discriminative)
                CandidateChoice.Discriminative(keptFeatures, picks, realFeatures, real.Labels, groups: modesOf);
            for (int c = 0; c < dataset.ClassCount; c++)
                foreach (int p in picks[c]) writer.Add(c, candidates.Train.Load(byClass[c][(int)keptRows[c][p]]));
            writer.Commit();
        });
    }
}
