using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class BaselineSelectionTests
{
    [Fact]
    public void RandomSelectionIsSeededPerClassAndWithoutRepeats()
    {
        var data = TinyData.Bars(20);
        var a = RandomSelection.Select(data.Train, 3, 5, seed: 1);
        var b = RandomSelection.Select(data.Train, 3, 5, seed: 1);
        var c = RandomSelection.Select(data.Train, 3, 5, seed: 2);
        Assert.Equal(a, b);
        Assert.NotEqual(a.SelectMany(x => x), c.SelectMany(x => x));
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(5, a[k].Length);
            Assert.Equal(5, a[k].Distinct().Count());
            Assert.All(a[k], i => Assert.Equal(k, data.Train.LabelOf(i)));
        }
        // Not just the first five of each class.
        Assert.NotEqual(Enumerable.Range(0, 5).Select(i => 3 * i), a[0]);
        Assert.Contains("has 20 images", Assert.Throws<UserInputException>(() => RandomSelection.Select(data.Train, 3, 21, 0)).Message);
    }

    [Fact]
    public void RandomSelectionCoversEachClassUniformly()
    {
        // 200 seeds × 5 of 20: each image drawn 50 times on average (σ ≈ 6.1); every one at least 20.
        var data = TinyData.Bars(20);
        var hits = new int[data.Train.Count];
        for (int s = 0; s < 200; s++)
            foreach (var i in RandomSelection.Select(data.Train, 3, 5, s)[0]) hits[i]++;
        var classZero = Enumerable.Range(0, data.Train.Count).Where(i => data.Train.LabelOf(i) == 0).Select(i => hits[i]).ToArray();
        Assert.All(classZero, h => Assert.InRange(h, 20, 80));
    }

    /// <summary>Independent brute-force herding: at step t try every unchosen point, keep the one whose addition brings the running mean closest to μ.</summary>
    static int[] BruteForceHerding(double[][] f, int k)
    {
        int n = f.Length, d = f[0].Length;
        var mu = new double[d];
        foreach (var row in f) for (int j = 0; j < d; j++) mu[j] += row[j] / n;
        var sum = new double[d];
        var picks = new List<int>();
        for (int t = 1; t <= k; t++)
        {
            int best = -1;
            double bestDistance = double.MaxValue;
            for (int i = 0; i < n; i++)
            {
                if (picks.Contains(i)) continue;
                double dist = 0;
                for (int j = 0; j < d; j++)
                {
                    double diff = mu[j] - (sum[j] + f[i][j]) / t;
                    dist += diff * diff;
                }
                if (dist < bestDistance) (best, bestDistance) = (i, dist);
            }
            picks.Add(best);
            for (int j = 0; j < d; j++) sum[j] += f[best][j];
        }
        return picks.ToArray();
    }

    [Fact]
    public void HerdingPicksThePointClosestToTheMeanFirstThenBalances()
    {
        // Mean (0, 0.2); point 2 is the closest to it. After that, the best partner pulls the running mean back.
        double[][] points = [[2, 0], [-2, 0.5], [0.1, 0.3], [3, 1], [-3.1, -0.8]];
        using var features = tensor(points.SelectMany(p => p).ToArray(), [5, 2]);
        var picks = Herding.Select(features, 5);
        Assert.Equal(2, picks[0]);
        Assert.Equal(BruteForceHerding(points, 5), picks);
        Assert.Equal(5, picks.Distinct().Count());

        var random = new Random(3);
        var cloud = Enumerable.Range(0, 60).Select(_ => Enumerable.Range(0, 7).Select(_ => random.NextDouble() * 4 - 1).ToArray()).ToArray();
        using var cloudTensor = tensor(cloud.SelectMany(p => p).ToArray(), [60, 7]).to(float32);
        Assert.Equal(BruteForceHerding(cloud, 10), Herding.Select(cloudTensor, 10));
    }

    [Fact]
    public void HerdingOnPixelsSelectsPerClassAndTheChosenImagesBecomeASyntheticSet()
    {
        var data = TinyData.Bars(8);
        var norm = Normalization.MeanStd([0.3f], [0.3f]);
        var chosen = Herding.Select(data, 3, new HerdingOptions { FeatureSpace = HerdingFeatureSpace.Pixels }, norm);
        Assert.Equal(3, chosen.Length);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(3, chosen[c].Distinct().Count());
            Assert.All(chosen[c], i => Assert.Equal(c, data.Train.LabelOf(i)));
        }

        using var dir = new TempDir();
        var root = dir.Combine("herding");
        RealSubset.Write(data, chosen, root, "herding", new JsonObject { ["seed"] = 0 });
        var set = SyntheticSetReader.Open(root);
        Assert.Equal(data.ClassNames, set.ClassNames);
        Assert.Equal(new[] { 3, 3, 3 }, set.Train.CountPerClass(3));
        Assert.Equal(data.Train.Load(chosen[1][2]).Pixels, set.Train.Load(5).Pixels);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "manifest.json")))!;
        Assert.Equal("herding", (string?)manifest["method"]);
        Assert.Equal(3, (int)manifest["ipc"]!);
        Assert.Equal(chosen[2], manifest["trainIndices"]![2]!.AsArray().Select(n => (int)n!).ToArray());
    }

    [Fact]
    public void HerdingInAConvNetEmbeddingIsDeterministic()
    {
        var data = TinyData.Bars(10);
        var norm = Normalization.MeanStd([0.3f], [0.3f]);
        var options = new HerdingOptions { FeatureSpace = HerdingFeatureSpace.ConvNet, Seed = 4, EmbeddingImages = 30 };
        var a = Herding.Select(data, 2, options, norm);
        var b = Herding.Select(data, 2, options, norm);
        Assert.Equal(a, b);
        for (int c = 0; c < 3; c++) Assert.All(a[c], i => Assert.Equal(c, data.Train.LabelOf(i)));
    }
}
