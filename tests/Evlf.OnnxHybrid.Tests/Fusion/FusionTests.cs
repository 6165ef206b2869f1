using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Fusion;

public class FusionTests
{
    /// <summary>A small fusion module (width 16, 2 heads, 5 text tokens of 12) that the fusion tests share.</summary>
    internal static readonly FusionConfig Small = new(TextDim: 12, TextLength: 5, Width: 16, Heads: 2);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void FusionGraphRunsIdenticallyInBothExecutors(bool refresh, bool preNorm)
    {
        using var scope = NewDisposeScope();
        var model = CrossAttentionFusion.Build(Small with { RefreshKeyValues = refresh, PreNorm = preNorm }, 1);
        foreach (int batch in new[] { 2, 3 })
        {
            var diffs = ParityCheck.Run(model, RandomInputs.For(model, seed: batch, batch: batch));
            Assert.Equal(new long[] { batch, 4, 8, 8 }, diffs.Single().Shape);
            Assert.True(diffs.Single().MaxAbsDiff < 1e-5, $"{diffs.Single().MaxAbsDiff:E2}");
        }
        Assert.Contains(model.Graph.Initializer, t => t.Name == "pos_embed" && t.Dims.SequenceEqual(new long[] { 1, 64, 16 }));
    }

    [Theory]
    [InlineData(8)]    // 8 → conv k4s4 → 2×2 → repeat to 4×4 (adaptive pool upsampling)
    [InlineData(32)]   // 32 → 8×8 → average to 4×4
    public void ProjectorMapsLatentsToTheTextWidth(int side)
    {
        using var scope = NewDisposeScope();
        var model = CrossAttentionFusion.BuildProjector(Small with { LatentSize = side }, 2);
        var diffs = ParityCheck.Run(model, RandomInputs.For(model, seed: 1, batch: 2));
        Assert.Equal(new long[] { 2, 12 }, diffs.Single().Shape);
        Assert.True(diffs.Single().MaxAbsDiff < 1e-5);
        // Adaptive average pooling semantics against TorchSharp's own adaptive_avg_pool2d.
        var x = randn(2, 64, side / 4, side / 4);
        var expected = nn.functional.adaptive_avg_pool2d(x, new long[] { 4, 4 });
        var viaGraph = side / 4 == 2 ? nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }) : nn.functional.avg_pool2d(x, new long[] { 2, 2 });
        Assert.True(expected.allclose(viaGraph));
    }

    [Fact]
    public void InfoNceMatchesAHandComputedMultiPositiveLoss()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        var u = randn(new long[] { 5, 4 }, generator: gen, dtype: ScalarType.Float64);
        var v = randn(new long[] { 5, 4 }, generator: gen, dtype: ScalarType.Float64);
        long[] labels = { 0, 1, 0, 2, 1 };
        double scale = 1 / 0.07;
        var loss = FusionLosses.InfoNce(u, v, tensor(labels), tensor(Math.Log(scale), dtype: ScalarType.Float64)).item<double>();

        double[,] U = Normalize(u), V = Normalize(v);
        double[,] logits = new double[5, 5];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) { double s = 0; for (int k = 0; k < 4; k++) s += U[i, k] * V[j, k]; logits[i, j] = scale * s; }
        double Direction(Func<int, int, double> l)
        {
            double total = 0;
            for (int i = 0; i < 5; i++)
            {
                double lse = Math.Log(Enumerable.Range(0, 5).Sum(j => Math.Exp(l(i, j))));
                var pos = Enumerable.Range(0, 5).Where(j => labels[j] == labels[i]).ToList();
                double lsePos = Math.Log(pos.Sum(j => Math.Exp(l(i, j) - lse)));
                total += -(lsePos - Math.Log(pos.Count));
            }
            return total / 5;
        }
        double expected = (Direction((i, j) => logits[i, j]) + Direction((i, j) => logits[j, i])) / 2;
        Assert.Equal(expected, loss, 10);
    }

    static double[,] Normalize(Tensor t)
    {
        var a = t.data<double>().ToArray();
        int rows = (int)t.shape[0], cols = (int)t.shape[1];
        var r = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, cols).Sum(k => a[i * cols + k] * a[i * cols + k]));
            for (int k = 0; k < cols; k++) r[i, k] = a[i * cols + k] / norm;
        }
        return r;
    }

    [Fact]
    public void InfoNceReachesItsFloorWhenEveryRowMatchesItsClassText()
    {
        using var scope = NewDisposeScope();
        long[] labels = { 0, 1, 0, 2, 1, 0 };
        // One orthogonal direction per class, rows equal to their class's text vector: InfoNCE at a large scale is the floor.
        var classes = eye(3, dtype: ScalarType.Float64);
        var rows = classes.index_select(0, tensor(labels));
        double loss = FusionLosses.InfoNce(rows, rows, tensor(labels), tensor(Math.Log(200.0), dtype: ScalarType.Float64)).item<double>();
        double floor = FusionLosses.InfoNceFloor(tensor(labels));
        Assert.Equal((3 * Math.Log(3) + 2 * Math.Log(2) + Math.Log(1)) / 6, floor, 12); // by hand: counts 3, 2, 3, 1, 2, 3
        Assert.Equal(floor, loss, 6);
    }

    [Fact]
    public void Lambda2RampsOverTheFirstHalf()
    {
        Assert.Equal(0.05, FusionLosses.Lambda2(0, 100), 12);
        Assert.Equal(0.525, FusionLosses.Lambda2(50, 100), 12);
        Assert.Equal(1.0, FusionLosses.Lambda2(100, 100), 12);
        Assert.Equal(1.0, FusionLosses.Lambda2(170, 100), 12);
    }

    [Fact]
    public void TrainingLowersTheLossAndResumesToTheSameBytes()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(5);
        var labels = arange(48).remainder(3);
        var classTokens = randn(new long[] { 3, 5, 12 }, generator: gen);
        var data = new FusionData(randn(new long[] { 48, 4, 8, 8 }, generator: gen) + labels.view(-1, 1, 1, 1).to(ScalarType.Float32),
            labels, classTokens, classTokens.mean(new long[] { 1 }));
        var o = new FusionTrainingOptions(Epochs: 2, BatchSize: 8, CheckpointEvery: 2);
        string a = Directory.CreateTempSubdirectory("evlf-fusion-a-").FullName, b = Directory.CreateTempSubdirectory("evlf-fusion-b-").FullName;
        try
        {
            var straight = FusionTrainer.Train(Small, data, o, 7, a);
            Assert.Equal(6, straight.Log[^1].Step);
            // The total rises with the λ2 ramp; its reconstruction term must fall.
            Assert.True(straight.Log[^1].Mse < straight.Log[0].Mse, $"MSE {straight.Log[0].Mse} -> {straight.Log[^1].Mse}");
            Assert.Equal(0.07, straight.Log[^1].Temperature, 5);
            Assert.All(straight.Log, e => Assert.InRange(e.InfoNceFloor, 0, e.InfoNce));

            using var cts = new CancellationTokenSource();
            var cancelAt = new Evlf.OnnxHybrid.Tests.Training.StopAt(3, cts);
            Assert.ThrowsAny<OperationCanceledException>(() => FusionTrainer.Train(Small, data, o, 7, b, cancelAt, cts.Token));
            var resumed = FusionTrainer.Train(Small, data, o, 7, b);
            Assert.Equal(File.ReadAllBytes(straight.FusionPath), File.ReadAllBytes(resumed.FusionPath));
            Assert.Equal(File.ReadAllBytes(straight.ProjectorPath), File.ReadAllBytes(resumed.ProjectorPath));
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void HeldOutQualityMatchesTheImporterAndTheDefinitions()
    {
        using var scope = NewDisposeScope();
        string dir = Directory.CreateTempSubdirectory("evlf-fusion-q-").FullName;
        try
        {
            var fusionModel = CrossAttentionFusion.Build(Small, 3);
            var projectorModel = CrossAttentionFusion.BuildProjector(Small, 4);
            string fusionPath = Path.Combine(dir, "fusion.onnx"), projectorPath = Path.Combine(dir, "projector.onnx");
            fusionModel.Save(fusionPath);
            projectorModel.Save(projectorPath);
            var gen = new Generator(9);
            var labels = arange(1100).remainder(3);   // more than one 500-row batch
            var latents = randn(new long[] { 1100, 4, 8, 8 }, generator: gen);
            var tokens = randn(new long[] { 3, 5, 12 }, generator: gen);
            var vectors = randn(new long[] { 3, 12 }, generator: gen);

            var q = FusionEvaluation.Measure(fusionPath, projectorPath, latents, labels, tokens, vectors, new SessionSettings(ExecutionDevice.Cpu));

            // The same quantities from the importer (libtorch), written out from their definitions.
            using var fusion = OnnxTorchModule.FromModel(fusionModel);
            using var projector = OnnxTorchModule.FromModel(projectorModel);
            fusion.eval();
            projector.eval();
            using var _ = no_grad();
            var fused = fusion.Run(latents, tokens.index_select(0, labels))[0];
            double ratio = (fused - latents).square().sum().item<float>() / latents.square().sum().item<float>();
            var u = projector.Run(fused)[0];
            var cos = u.matmul(vectors.t()) / (u.norm(1, true) * vectors.norm(1, true).t());
            double top1 = cos.argmax(1).eq(labels).sum().item<long>() / 1100.0;
            Assert.Equal(1100, q.Samples);
            Assert.Equal(ratio, q.MseRatio, 4);
            Assert.Equal(top1, q.Top1, 3);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
