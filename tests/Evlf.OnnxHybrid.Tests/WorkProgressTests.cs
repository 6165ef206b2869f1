using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Tests.Bundles;
using Evlf.OnnxHybrid.Tests.Evaluation;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>
/// Long calls of the public API report <see cref="WorkProgress"/>: per task, done counts up to the total. (Training loops,
/// evaluation repeats and the inspector are checked in their own tests; the pipeline in DistillationPipelineTests.)
/// </summary>
public sealed class WorkProgressTests
{
    [Fact]
    public void Loading_images_for_a_bundle_counts_up()
    {
        var data = TinyData.Bars(4);
        var progress = new ProgressLog();
        using var images = BundleImages.Load(data.Train, 16, 1, progress: progress);
        progress.AssertCountsUpToTotal("load images");
        Assert.Equal(data.Train.Count, progress.Items[^1].Total);
    }

    [Fact]
    public void Herding_counts_its_embedding_epochs_then_its_classes()
    {
        var data = TinyData.Bars(4);
        var progress = new ProgressLog();
        Herding.Select(data, 2, new HerdingOptions { EmbeddingEpochs = 2 }, Normalization.MeanStd([0.3f], [0.3f]), progress);
        progress.AssertCountsUpToTotal("herding embedding", "herding");
        Assert.Equal(data.ClassCount, progress.Items[^1].Total);
        Assert.Contains(progress.Items, p => p.Task == "herding embedding" && p.Done == 2 && p.Status!.StartsWith("loss ", StringComparison.Ordinal));
    }

    [Fact]
    public void Generating_counts_the_sampling_steps_of_each_class()
    {
        var root = Directory.CreateTempSubdirectory("evlf-progress-").FullName;
        try
        {
            var bundle = ModelBundle.Load(TinyBundle.Create(Path.Combine(root, "bundle")));
            using var runtime = new BundleRuntime(bundle, new SessionSettings(ExecutionDevice.Cpu));
            var progress = new ProgressLog();
            runtime.Generate("dit", classIndex: 1, n: 2, new SampleOptions(Steps: 4, Cfg: 2), seed: 0, progress);
            progress.AssertCountsUpToTotal(bundle.Manifest.Classes[1]);
            Assert.Equal(new double[] { 1, 2, 3, 4, 4 }, progress.Items.Select(p => p.Done));
        }
        finally { Directory.Delete(root, true); }
    }
}
