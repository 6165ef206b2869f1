using Evlf.OnnxHybrid.Models;
using Evlf.OnnxHybrid.Pretraining;
using Evlf.OnnxHybrid.Tests.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Pretraining;

/// <summary>The VAE stage trains through the importer, and a run killed mid-way resumes to the same bytes.</summary>
public class VaeStageTests
{
    static readonly KlVaeConfig Tiny = new(ImageSize: 8, Channels: new[] { 4, 8 }, Groups: 2);
    static readonly VaeStageOptions Options = new(Epochs: 3, BatchSize: 8, LearningRate: 3e-3, CheckpointEvery: 2);

    static Tensor Images(int n, int seed) => (rand(n, 1, 8, 8, generator: new Generator((ulong)seed)) * 2 - 1).DetachFromDisposeScope();

    [Fact]
    public void KilledRunResumesToTheSameWeights()
    {
        var train = Images(24, 1);
        var test = Images(8, 2);
        string a = Directory.CreateTempSubdirectory("evlf-vae-a-").FullName, b = Directory.CreateTempSubdirectory("evlf-vae-b-").FullName;
        try
        {
            var progress = new ProgressLog();
            var straight = VaeStage.Run(Tiny, train, test, Options, seed: 5, a, progress);
            Assert.Equal(5, straight.Losses.Length);  // 9 steps, checkpoints at 2,4,6,8,9
            progress.AssertCountsUpToTotal("vae");
            Assert.Equal(9, progress.Items.Count);
            Assert.StartsWith("loss ", progress.Items[^1].Status);
            Assert.True(straight.Losses[^1] < straight.Losses[0], "the loss did not fall");

            using var cts = new CancellationTokenSource();
            Assert.Throws<OperationCanceledException>(() => VaeStage.Run(Tiny, train, test, Options, seed: 5, b, new StopAt(5, cts), cts.Token));
            var resumed = VaeStage.Run(Tiny, train, test, Options, seed: 5, b);

            Assert.Equal(File.ReadAllBytes(straight.EncoderPath), File.ReadAllBytes(resumed.EncoderPath));
            Assert.Equal(File.ReadAllBytes(straight.DecoderPath), File.ReadAllBytes(resumed.DecoderPath));
            Assert.Equal(straight.TestPsnr, resumed.TestPsnr);
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }
}
