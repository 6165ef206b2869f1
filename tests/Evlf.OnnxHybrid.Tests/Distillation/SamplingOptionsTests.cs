using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Bundles;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Distillation;

/// <summary>
/// The options that shape what a run samples (docs/CLI.md): --through-vae, --modes closest-real, --start, --strength 0,
/// --guidance-interval and the cut back to the data's size, on the tiny bundle.
/// </summary>
public class SamplingOptionsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-sampling-").FullName;
    readonly string bundle;
    readonly string data;

    public SamplingOptionsTests()
    {
        bundle = TinyBundle.Create(Path.Combine(root, "bundle"), withUNet: true);
        data = "folder:" + TinyBundle.Dataset(Path.Combine(root, "data"));
    }

    public void Dispose() => Directory.Delete(root, true);

    DistillOptions Options(DistillMethod method, string name) => new()
    {
        Data = data, Bundle = bundle, Method = method, Evlf = false, Ipc = 2, Seed = 1, Out = Path.Combine(root, name), Steps = 4,
        Device = Evlf.OnnxHybrid.Onnx.ExecutionDevice.Cpu,
    };

    static byte[][] Images(DistillResult r) =>
        Directory.GetFiles(Path.Combine(r.Out, "images"), "*.png", SearchOption.AllDirectories).Order().Select(File.ReadAllBytes).ToArray();

    [Fact]
    public void ThroughVaeAddsItsStageAndWritesTheChosenImagesDecoded()
    {
        var options = Options(DistillMethod.Random, "vae") with { ThroughVae = true };
        Assert.Equal(new[] { StageNames.Select, StageNames.ThroughVae }, DistillRecipe.For(options).Stages);
        var r = new DistillationPipeline(options).Run();
        Assert.Equal(6, r.Images);
        var plain = new DistillationPipeline(Options(DistillMethod.Random, "plain")).Run();
        // The same images chosen (same seed), but decoded: other bytes.
        static string Chosen(DistillResult r) =>
            System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(r.Out, "manifest.json")))!["trainIndices"]!.ToJsonString();
        Assert.Equal(Chosen(plain), Chosen(r));
        Assert.NotEqual(Images(plain), Images(r));
    }

    [Fact]
    public void ClosestRealModesDecodedAreTheRealStartDecoded()
    {
        // Both decode the latents of the training images nearest the k-means centres, without a denoising step.
        var modes = new DistillationPipeline(Options(DistillMethod.Dit, "closest") with
        {
            Modes = ModeKind.ClosestReal, Start = SampleStart.Modes, Strength = 0,
        }).Run();
        var real = new DistillationPipeline(Options(DistillMethod.Dit, "real") with { Start = SampleStart.Real, Strength = 0 }).Run();
        var centroids = new DistillationPipeline(Options(DistillMethod.Dit, "centroids") with { Start = SampleStart.Modes, Strength = 0 }).Run();
        Assert.Equal(Images(modes), Images(real));
        Assert.NotEqual(Images(modes), Images(centroids));
    }

    [Fact]
    public void HerdingModesAreTheImagesHerdingPicksAndAnchorEveryGenerativeMethod()
    {
        var r = new DistillationPipeline(Options(DistillMethod.Mgd3, "herded") with { Modes = ModeKind.Herding, Start = SampleStart.Real, Strength = 0.5 }).Run();
        Assert.Equal(6, r.Images);
        string dir = Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "modes-*").Single();
        var nearest = StageTensors.Load(dir, "nearest");
        // Herding's picks (seed 1, ipc 2) in the data as the run reads it (gray, the bundle's channels), one row per class, in pick order.
        var dataset = DataSpec.Open(data, new DatasetOptions(Channels: 1));
        var picks = Herding.Select(dataset, 2, new HerdingOptions { Seed = 1 }, DatasetNormalization.For(dataset));
        Assert.Equal(picks.Select(p => p.Select(i => (long)i).ToArray()).ToArray(),
            Enumerable.Range(0, picks.Length).Select(c => nearest[c].data<long>().ToArray()).ToArray());
        foreach (var method in new[] { DistillMethod.Dit, DistillMethod.D4m })
            Assert.Equal(6, new DistillationPipeline(Options(method, $"herded-{method}") with { Modes = ModeKind.Herding, Start = SampleStart.Real, Strength = 0.5 }).Run().Images);
    }

    [Fact]
    public void AGuidanceIntervalOverEveryStepIsPlainGuidanceAndAnEmptyOneIsNone()
    {
        var plain = Images(new DistillationPipeline(Options(DistillMethod.Mgd3, "plain")).Run());
        var everyStep = Images(new DistillationPipeline(Options(DistillMethod.Mgd3, "all") with { GuidanceInterval = new GuidanceInterval(0, 1) }).Run());
        var noStep = Images(new DistillationPipeline(Options(DistillMethod.Mgd3, "none") with { GuidanceInterval = new GuidanceInterval(1, 1) }).Run());
        var unguided = Images(new DistillationPipeline(Options(DistillMethod.Mgd3, "cfg1") with { Cfg = 1 }).Run());
        Assert.Equal(plain, everyStep);
        Assert.Equal(unguided, noStep); // SamplingLoopTests shows that the interval changes the samples of a denoiser that heeds the class
    }

    [Fact]
    public void RealAnchoredImg2ImgRunsForEveryGenerativeMethod()
    {
        foreach (var method in new[] { DistillMethod.Dit, DistillMethod.Mgd3, DistillMethod.D4m })
        {
            var r = new DistillationPipeline(Options(method, $"anchored-{method}") with { Start = SampleStart.Real, Strength = 0.5 }).Run();
            Assert.Equal(6, r.Images);
        }
    }

    /// <summary>Each class's images of a run's set, in the order the class wrote them.</summary>
    static ByteImage[][] SetImages(DistillResult r)
    {
        var train = SyntheticSetReader.Open(r.Out, new DatasetOptions(Channels: 1)).Train;
        var labels = train.Labels();
        return Enumerable.Range(0, labels.Max() + 1)
            .Select(c => Enumerable.Range(0, train.Count).Where(i => labels[i] == c).Select(i => train.Load(i)).ToArray()).ToArray();
    }

    [Fact]
    public void RealDetailAtStrengthZeroWritesTheStartingRealImagesThemselves()
    {
        // Without the flip coin each start is the plain training image; strength 0 decodes it unchanged, so real + decode −
        // decode is the real image, byte for byte, where the decode alone is not.
        var options = Options(DistillMethod.Dit, "detail0") with { Start = SampleStart.Real, Strength = 0, RealDetail = true, FlipForModes = false };
        var r = new DistillationPipeline(options).Run();
        var decoded = new DistillationPipeline(options with { RealDetail = false, Out = Path.Combine(root, "decoded0") }).Run();
        var nearest = StageTensors.Load(Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "modes-*").Single(), "nearest");
        var dataset = DataSpec.Open(data, new DatasetOptions(Channels: 1));
        var written = SetImages(r);
        for (int c = 0; c < written.Length; c++)
            for (int k = 0; k < written[c].Length; k++)
                Assert.Equal(dataset.Train.Load((int)nearest[c][k].item<long>()).Pixels, written[c][k].Pixels);
        Assert.NotEqual(written.SelectMany(x => x).Select(i => i.Pixels), SetImages(decoded).SelectMany(x => x).Select(i => i.Pixels));
    }

    [Fact]
    public void RealDetailAddsWhatTheVaeLosesOfTheStartToTheSample()
    {
        // Three runs on the same seed: the samples, the starts decoded (strength 0) and the samples with real detail. Pixel
        // by pixel, detail = real + sample − decoded start, up to the byte rounding of each (≤ 1.5 levels), where nothing clipped.
        var options = Options(DistillMethod.Mgd3, "sampled") with { Start = SampleStart.Real, Strength = 0.5 };
        var sampled = SetImages(new DistillationPipeline(options).Run());
        var starts = SetImages(new DistillationPipeline(options with { Strength = 0, Out = Path.Combine(root, "starts") }).Run());
        var detailRun = new DistillationPipeline(options with { RealDetail = true, Out = Path.Combine(root, "detail") }).Run();
        var detail = SetImages(detailRun);
        var real = SetImages(new DistillationPipeline(options with { Strength = 0, RealDetail = true, Out = Path.Combine(root, "real") }).Run());
        int compared = 0, changed = 0;
        for (int c = 0; c < detail.Length; c++)
            for (int k = 0; k < detail[c].Length; k++)
                for (int p = 0; p < detail[c][k].Pixels.Length; p++)
                {
                    int s = sampled[c][k].Pixels[p], d = starts[c][k].Pixels[p], x = real[c][k].Pixels[p];
                    if (s is 0 or 255 || d is 0 or 255 || x + s - d is < 0 or > 255) continue;
                    Assert.InRange(detail[c][k].Pixels[p] - (x + s - d), -2, 2);
                    compared++;
                    if (detail[c][k].Pixels[p] != s) changed++;
                }
        Assert.True(compared > detail.Sum(x => x.Length) * 10, $"only {compared} pixels unclipped");
        Assert.True(changed > 0);
    }

    [Fact]
    public void OwnViewWritesEachSampleInItsRealStartsOrientation()
    {
        // With the flip coin about half the starts are their image's mirrored view. Strength 0 with real detail writes the
        // starts themselves: the training images, some mirrored, and with own view every one as the data holds it.
        var options = Options(DistillMethod.Dit, "view") with { Start = SampleStart.Real, Strength = 0, RealDetail = true };
        var asStarted = new DistillationPipeline(options).Run();
        var own = SetImages(new DistillationPipeline(options with { OwnView = true, Out = Path.Combine(root, "own") }).Run());
        var nearest = StageTensors.Load(Directory.GetDirectories(Path.Combine(asStarted.Out, RunFolder.StagesFolder), "modes-*").Single(), "nearest");
        var dataset = DataSpec.Open(data, new DatasetOptions(Channels: 1));
        var written = SetImages(asStarted);
        var mirrored = new List<(int Class, int Row)>();
        for (int c = 0; c < written.Length; c++)
            for (int k = 0; k < written[c].Length; k++)
            {
                var image = dataset.Train.Load((int)nearest[c][k].item<long>());
                Assert.Equal(image.Pixels, own[c][k].Pixels);
                if (written[c][k].Pixels.SequenceEqual(image.Pixels)) continue;
                Assert.Equal(ImageTransforms.HorizontalFlip(image).Pixels, written[c][k].Pixels);
                mirrored.Add((c, k));
            }
        Assert.NotEmpty(mirrored);
        Assert.True(mirrored.Count < written.Sum(x => x.Length), "every start mirrored");
        // Sampled (no detail): the same samples, the mirrored starts' ones mirrored back.
        var sampling = options with { Strength = 0.5, RealDetail = false };
        var sampled = SetImages(new DistillationPipeline(sampling with { Out = Path.Combine(root, "sampled") }).Run());
        var sampledOwn = SetImages(new DistillationPipeline(sampling with { OwnView = true, Out = Path.Combine(root, "sampled-own") }).Run());
        for (int c = 0; c < sampled.Length; c++)
            for (int k = 0; k < sampled[c].Length; k++)
                Assert.Equal((mirrored.Contains((c, k)) ? ImageTransforms.HorizontalFlip(sampled[c][k]) : sampled[c][k]).Pixels, sampledOwn[c][k].Pixels);
    }

    [Theory]
    [InlineData(DistillMethod.Dit, "through-vae", "DistillOptions.ThroughVae applies to the real-image methods")]
    [InlineData(DistillMethod.Random, "start", "DistillOptions.Start applies to the generative methods")]
    [InlineData(DistillMethod.Herding, "modes", "DistillOptions.Modes applies to the generative methods")]
    [InlineData(DistillMethod.Random, "interval", "DistillOptions.GuidanceInterval applies to the generative methods")]
    [InlineData(DistillMethod.Mgd3, "strength0", "DistillOptions.Strength 0 decodes the starting latents without denoising")]
    [InlineData(DistillMethod.Mgd3, "interval-order", "DistillOptions.GuidanceInterval must be LOW,HIGH")]
    [InlineData(DistillMethod.Dit, "strength", "DistillOptions.Strength must be in [0, 1]")]
    [InlineData(DistillMethod.Mgd3, "detail-noise", "DistillOptions.RealDetail adds back the detail of the real image a sample starts from, but sampling starts from noise")]
    [InlineData(DistillMethod.Herding, "detail-real-method", "DistillOptions.RealDetail applies to the generative methods")]
    [InlineData(DistillMethod.Mgd3, "own-view-noise", "DistillOptions.OwnView writes each sample in the orientation of the real image it starts from, but sampling starts from noise")]
    [InlineData(DistillMethod.Random, "own-view-real-method", "DistillOptions.OwnView applies to the generative methods")]
    [InlineData(DistillMethod.Mgd3, "neighbours-herding", "DistillOptions.Start real-neighbours takes the real latents around each k-means mode")]
    [InlineData(DistillMethod.Mgd3, "one-per-mode-alone", "DistillOptions.OnePerMode chooses among each mode's candidates, but there is 1 candidate per image")]
    [InlineData(DistillMethod.Dit, "one-per-mode-noise", "DistillOptions.OnePerMode groups the candidates by the mode they are guided by or start from, but method 'dit' samples from noise")]
    [InlineData(DistillMethod.Mgd3, "neighbours-too-many", "DistillOptions.Candidates 5 with start real-neighbours needs 2 × 5 distinct training images per class, but class")]
    public void MisplacedOptionsAreRefusedBeforeAnyWork(DistillMethod method, string change, string message)
    {
        var options = Options(method, "refused");
        options = change switch
        {
            "through-vae" => options with { ThroughVae = true },
            "start" => options with { Start = SampleStart.Real },
            "modes" => options with { Modes = ModeKind.ClosestReal },
            "interval" => options with { GuidanceInterval = new GuidanceInterval(0.2, 0.8) },
            "strength0" => options with { Strength = 0 },
            "interval-order" => options with { GuidanceInterval = new GuidanceInterval(0.8, 0.2) },
            "detail-noise" => options with { RealDetail = true },
            "detail-real-method" => options with { RealDetail = true },
            "own-view-noise" or "own-view-real-method" => options with { OwnView = true },
            "one-per-mode-alone" => options with { OnePerMode = true },
            "one-per-mode-noise" => options with { OnePerMode = true, Candidates = 3 },
            "neighbours-herding" => options with { Start = SampleStart.RealNeighbours, Modes = ModeKind.Herding, Candidates = 2 },
            // The tiny data has 8 training images per class: 2 modes × 5 candidates need 10.
            "neighbours-too-many" => options with { Start = SampleStart.RealNeighbours, Candidates = 5 },
            _ => options with { Strength = 1.5 },
        };
        var e = Assert.Throws<UserInputException>(() => new DistillationPipeline(options).Run());
        Assert.StartsWith(message, e.Message);
        // The library names its own option, never a command-line flag; the CLI renames it (OptionFlags).
        Assert.Equal(message.Split(' ')[0], e.Option);
        Assert.DoesNotContain("--", e.Message);
        Assert.Equal("--x " + e.Problem, e.MessageNaming(_ => "--x"));
        Assert.False(Directory.Exists(options.Out));
    }

    [Fact]
    public void UnpadUndoesFitsPaddingAndLeavesACropAlone()
    {
        var image = new ByteImage(12, 10, 1);
        for (int p = 0; p < image.Pixels.Length; p++) image.Pixels[p] = (byte)(p * 7);
        var padded = BundleImages.Fit(image, 16);
        Assert.Equal(16, padded.Width);
        var back = BundleImages.Unpad(padded, 10, 12);
        Assert.Equal(image.Pixels, back.Pixels);
        var large = new ByteImage(20, 20, 1);
        Assert.Same(large, BundleImages.Unpad(large, 24, 24));
    }

    [Fact]
    public void GeneratedImagesOfPaddedDataComeBackAtTheDataSize()
    {
        // 12×12 data on the 16×16 bundle: padded by 2 on every side to encode, cut back after decoding.
        string small = Path.Combine(root, "small");
        for (int c = 0; c < 3; c++)
        {
            foreach (var split in new[] { "train", "val" })
            {
                string dir = Directory.CreateDirectory(Path.Combine(small, split, ((char)('a' + c)).ToString())).FullName;
                for (int i = 0; i < 4; i++)
                {
                    var image = new ByteImage(12, 12, 1);
                    for (int p = 0; p < 144; p++) image.Pixels[p] = (byte)(40 * c + 5 * i + p);
                    File.WriteAllBytes(Path.Combine(dir, $"{i}.png"), ImageCodec.EncodePng(image));
                }
            }
        }
        var options = Options(DistillMethod.Dit, "small-data") with { Data = "folder:" + small };
        var cut = new DistillationPipeline(options).Run();
        var kept = new DistillationPipeline(options with { Out = Path.Combine(root, "small-kept"), KeepBundleSize = true }).Run();
        static int Width(DistillResult r) => ImageCodec.Decode(Directory.GetFiles(Path.Combine(r.Out, "images"), "*.png", SearchOption.AllDirectories)[0], 1).Width;
        Assert.Equal(12, Width(cut));
        Assert.Equal(16, Width(kept));
    }

    [Fact]
    public void ClosestRowsAreTheNearestDistinctRowsInCentreOrder()
    {
        var rows = tensor(new float[] { 0, 0, 1, 0, 10, 0, 11, 0 }, 4, 2);
        var centres = tensor(new float[] { 0.4f, 0, 0.6f, 0, 10.6f, 0 }, 3, 2);
        Assert.Equal(new long[] { 0, 1, 3 }, Evlf.OnnxHybrid.Clustering.Prototypes.ClosestRows(rows, centres).data<long>().ToArray());
    }

    [Fact]
    public void ClosestRowsPerCentreTakeTurnsStartingWithTheClosestRows()
    {
        // Rows at x = 0, 1, 2, 10, 11, 12; centres at 0.4 and 10.6: each round, each centre in order takes its nearest free row.
        var rows = tensor(new float[] { 0, 0, 1, 0, 2, 0, 10, 0, 11, 0, 12, 0 }, 6, 2);
        var centres = tensor(new float[] { 0.4f, 0, 10.6f, 0 }, 2, 2);
        var three = Evlf.OnnxHybrid.Clustering.Prototypes.ClosestRows(rows, centres, 3).data<long>().ToArray();
        Assert.Equal(new long[] { 0, 4, 1, 3, 2, 5 }, three);
        Assert.Equal(Evlf.OnnxHybrid.Clustering.Prototypes.ClosestRows(rows, centres).data<long>().ToArray(), three[..2]);
        Assert.Throws<ArgumentException>(() => Evlf.OnnxHybrid.Clustering.Prototypes.ClosestRows(rows, centres, 4));

        // Against a plain greedy loop over exact distances on random points.
        var random = new Random(5);
        var points = Enumerable.Range(0, 40).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.NextDouble() }).ToArray();
        var modes = Enumerable.Range(0, 4).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.NextDouble() }).ToArray();
        var taken = new HashSet<int>();
        var expected = new List<long>();
        for (int n = 0; n < 4 * 5; n++)
        {
            var mode = modes[n % 4];
            int best = Enumerable.Range(0, points.Length).Where(i => !taken.Contains(i))
                .MinBy(i => points[i].Zip(mode, (a, b) => (a - b) * (a - b)).Sum());
            taken.Add(best);
            expected.Add(best);
        }
        var actual = Evlf.OnnxHybrid.Clustering.Prototypes.ClosestRows(tensor(points.SelectMany(p => p).ToArray(), 40, 3),
            tensor(modes.SelectMany(p => p).ToArray(), 4, 3), 5).data<long>().ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void RealNeighboursStartEachCandidateFromARealLatentOfItsOwn()
    {
        // Strength 0 decodes the starts as they are: real starts repeat each mode's one latent over the candidates,
        // real-neighbours hands each candidate its own, the first ipc of them the real start's.
        DistillResult Run(SampleStart start) => new DistillationPipeline(Options(DistillMethod.Mgd3, $"starts-{start}") with
        {
            Start = start, Strength = 0, Candidates = 3,
        }).Run();
        static string[][] Sampled(DistillResult r)
        {
            string set = Path.Combine(Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "sample-*").Single(), "set", "images");
            return Directory.GetDirectories(set).Order().Select(dir => Directory.GetFiles(dir, "*.png").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)))
                .Select(f => Convert.ToHexString(File.ReadAllBytes(f))).ToArray()).ToArray();
        }
        static long[][] Nearest(DistillResult r)
        {
            var nearest = StageTensors.Load(Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "modes-*").Single(), "nearest");
            return Enumerable.Range(0, (int)nearest.shape[0]).Select(c => nearest[c].data<long>().ToArray()).ToArray();
        }
        var real = Run(SampleStart.Real);
        var neighbours = Run(SampleStart.RealNeighbours);
        var (realNearest, neighbourNearest) = (Nearest(real), Nearest(neighbours));
        Assert.All(realNearest, row => Assert.Equal(2, row.Length));
        Assert.All(neighbourNearest, row => Assert.Equal(6, row.Distinct().Count()));
        Assert.Equal(realNearest, neighbourNearest.Select(row => row[..2]).ToArray());
        var (realSampled, neighbourSampled) = (Sampled(real), Sampled(neighbours));
        Assert.Equal(3, realSampled.Length);
        for (int c = 0; c < realSampled.Length; c++)
        {
            Assert.Equal(6, realSampled[c].Length);
            Assert.Equal(2, realSampled[c].Distinct().Count());
            Assert.Equal(6, neighbourSampled[c].Distinct().Count());
            Assert.Equal(realSampled[c][..2], neighbourSampled[c][..2]);
        }
    }

    [Theory]
    [InlineData(CandidateSelection.Herding)]
    [InlineData(CandidateSelection.KCenter)]
    [InlineData(CandidateSelection.KernelHerding)]
    [InlineData(CandidateSelection.Discriminative)]
    public void CandidatesAreSampledThenIpcChosenPerClass(CandidateSelection selection)
    {
        var options = Options(DistillMethod.Mgd3, $"candidates-{selection}") with { Candidates = 3, Selection = selection };
        Assert.Equal(StageNames.Choose, DistillRecipe.For(options).Stages[^1]);
        var r = new DistillationPipeline(options).Run();
        Assert.Equal(6, r.Images);
        string sampled = Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "sample-*").Single();
        var candidates = Directory.GetFiles(sampled, "*.png", SearchOption.AllDirectories).Select(File.ReadAllBytes).ToList();
        Assert.Equal(18, candidates.Count);
        // Every kept image is one of the candidates.
        Assert.All(Images(r), image => Assert.Contains(candidates, c => c.SequenceEqual(image)));
    }

    [Fact]
    public void OnePerModeKeepsEachRealStartOnce()
    {
        // At strength 0 a mode's three candidates are its real start three times over; one per mode keeps each start once.
        var options = Options(DistillMethod.Mgd3, "one-per-mode") with
        {
            Start = SampleStart.Real, Strength = 0, RealDetail = true, FlipForModes = false, Candidates = 3, OnePerMode = true,
        };
        var r = new DistillationPipeline(options).Run();
        var nearest = StageTensors.Load(Directory.GetDirectories(Path.Combine(r.Out, RunFolder.StagesFolder), "modes-*").Single(), "nearest");
        var dataset = DataSpec.Open(data, new DatasetOptions(Channels: 1));
        var written = SetImages(r);
        for (int c = 0; c < written.Length; c++)
        {
            var starts = nearest[c].data<long>().Select(i => dataset.Train.Load((int)i).Pixels).ToList();
            Assert.Equal(2, written[c].Length);
            Assert.All(starts, start => Assert.Single(written[c], image => image.Pixels.SequenceEqual(start)));
        }
    }

    /// <summary>Greedy herding by its definition, over the rows <paramref name="eligible"/> allows at each step.</summary>
    static int[] HerdByHand(double[][] rows, int k, Func<IReadOnlyList<int>, int, bool> eligible)
    {
        int d = rows[0].Length;
        var mean = Enumerable.Range(0, d).Select(j => rows.Average(r => r[j])).ToArray();
        var chosen = new List<int>();
        for (int t = 1; t <= k; t++)
            chosen.Add(Enumerable.Range(0, rows.Length).Where(i => !chosen.Contains(i) && eligible(chosen, i)).MinBy(i =>
                Enumerable.Range(0, d).Sum(j => Math.Pow(mean[j] - (chosen.Sum(c => rows[c][j]) + rows[i][j]) / t, 2))));
        return [.. chosen];
    }

    [Fact]
    public void GroupsGiveOneRowEachBeforeAnyGivesTwo()
    {
        var random = new Random(3);
        var rows = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, 4).Select(_ => random.NextDouble()).ToArray()).ToArray();
        // Group of row r is r mod 4 (a mode's candidates), except that group 3 has only row 3: it is used up in round one.
        long[] groups = [.. Enumerable.Range(0, 12).Select(r => r % 4 == 3 && r > 3 ? 0L : r % 4)];
        // A row is eligible when its group has not given a row in this round (round n = the picks since every group last gave one).
        bool Eligible(IReadOnlyList<int> chosen, int i)
        {
            var round = new HashSet<long>();
            for (int n = 1; n <= chosen.Count; n++)
            {
                round.Add(groups[chosen[n - 1]]);
                var open = Enumerable.Range(0, 12).Where(r => !chosen.Take(n).Contains(r)).Select(r => groups[r]);
                if (open.All(round.Contains)) round.Clear();
            }
            return !round.Contains(groups[i]);
        }
        var f = tensor(rows.SelectMany(r => r).ToArray(), 12, 4);
        var picks = Herding.Select(f, 9, groups: tensor(groups));
        Assert.Equal(HerdByHand(rows, 9, Eligible), picks);
        Assert.Equal(4, picks.Take(4).Select(p => groups[p]).Distinct().Count());
        Assert.NotEqual(HerdByHand(rows, 9, (_, _) => true), picks);
        Assert.Equal(HerdByHand(rows, 9, (_, _) => true), Herding.Select(f, 9));

        // k-center by hand on five points: row 1 nearest the target (group 0), then the farthest of groups 1 and 2 (row 2,
        // 4 away; row 3 3.16, row 4 3.90), then group 2's one row, then round two: row 3 (3.16 from the chosen) over row 0 (1).
        var points = tensor(new float[] { 0, 0, 1, 0, 5, 0, 0, 3, 4.9f, 0.1f }, 5, 2);
        Assert.Equal(new[] { 1, 2, 4, 3 }, CandidateChoice.KCenter(points, 4, tensor(new float[] { 1.2f, 0 }), tensor(new long[] { 0, 0, 1, 1, 2 })));
        // Kernel herding keeps the rule: its first picks come from distinct groups.
        var kernel = CandidateChoice.KernelHerding(f, 4, f, tensor(groups));
        Assert.Equal(4, kernel.Select(p => groups[p]).Distinct().Count());
    }

    [Fact]
    public void AssignedKeepsTheClassesCandidatesAndFillsUpWithTheMostProbable()
    {
        var probability = tensor(new float[] { 0.9f, 0.2f, 0.4f, 0.8f, 0.3f });
        var assigned = tensor(new[] { true, false, false, true, false });
        Assert.Equal(new long[] { 0, 3 }, CandidateChoice.Assigned(probability, assigned, 2).data<long>().ToArray());
        Assert.Equal(new long[] { 0, 2, 3, 4 }, CandidateChoice.Assigned(probability, assigned, 4).data<long>().ToArray());
    }

    /// <summary>MMD² between rows of <paramref name="set"/> and <paramref name="real"/> under exp(−‖x − y‖²/h), written out as the three double sums.</summary>
    static double Mmd2(double[][] set, double[][] real, double h)
    {
        static double K(double[] x, double[] y, double h) => Math.Exp(-x.Zip(y, (a, b) => (a - b) * (a - b)).Sum() / h);
        double ss = set.Sum(x => set.Sum(y => K(x, y, h))) / (set.Length * set.Length);
        double sr = set.Sum(x => real.Sum(y => K(x, y, h))) / (set.Length * real.Length);
        double rr = real.Sum(x => real.Sum(y => K(x, y, h))) / (real.Length * real.Length);
        return ss - 2 * sr + rr;
    }

    [Fact]
    public void KernelHerdingPicksWhatGreedyMmdOverTheWholeSetPicks()
    {
        var random = new Random(7);
        double[][] Rows(int n, double shift) => Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, 3).Select(_ => random.NextDouble() * 2 + shift).ToArray()).ToArray();
        var candidates = Rows(12, 0.3);
        var real = Rows(9, 0.0);
        // The median heuristic by hand: the median of the 72 squared distances between distinct real rows (even count: torch takes the lower middle).
        var distances = real.SelectMany((x, i) => real.Where((_, j) => j != i).Select(y => x.Zip(y, (a, b) => (a - b) * (a - b)).Sum())).Order().ToArray();
        double h = distances[(distances.Length - 1) / 2];

        var chosen = new List<int>();
        for (int t = 0; t < 5; t++)
            chosen.Add(Enumerable.Range(0, candidates.Length).Where(i => !chosen.Contains(i))
                .MinBy(i => Mmd2(chosen.Append(i).Select(j => candidates[j]).ToArray(), real, h)));

        static Tensor T(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length);
        Assert.Equal(chosen.ToArray(), CandidateChoice.KernelHerding(T(candidates), 5, T(real)));
    }

    static double SquaredDistance(double[] x, double[] y) => x.Zip(y, (a, b) => (a - b) * (a - b)).Sum();

    /// <summary>
    /// The nearest-chosen-image classifier's mean cross-entropy on <paramref name="real"/>, written out: for each real row,
    /// each class's nearest chosen candidate, logits −distance²/τ, then −log softmax at the row's label.
    /// </summary>
    static double PrototypeLoss(double[][][] candidates, int[][] picks, double[][] real, int[] labels, double tau) =>
        real.Select((r, i) =>
        {
            var logits = candidates.Select((f, c) => -picks[c].Min(p => SquaredDistance(r, f[p])) / tau).ToArray();
            double max = logits.Max();
            return max + Math.Log(logits.Sum(l => Math.Exp(l - max))) - logits[labels[i]];
        }).Average();

    [Fact]
    public void DiscriminativeChoiceDescendsThePrototypeLossOneSwapAtATime()
    {
        var random = new Random(11);
        double[][] Rows(int n, double shift) => Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, 3).Select(_ => random.NextDouble() * 2 + shift).ToArray()).ToArray();
        var candidates = new[] { Rows(6, 0.0), Rows(6, 0.6), Rows(6, 1.2) };
        var real = new[] { Rows(7, 0.0), Rows(7, 0.6), Rows(7, 1.2) }.SelectMany(r => r).ToArray();
        int[] labels = [.. Enumerable.Range(0, 21).Select(i => i / 7)];
        var start = new[] { new[] { 0, 1 }, new[] { 0, 1 }, new[] { 0, 1 } };
        // τ by hand: the median of each real row's squared distance to its nearest chosen candidate (21 rows: the 11th).
        var nearest = real.Select(r => candidates.SelectMany((f, c) => start[c].Select(p => SquaredDistance(f[p], r))).Min()).Order().ToArray();
        double tau = nearest[10] * 0.5;

        // Coordinate descent by hand: class by class, slot by slot, the candidate that makes the loss smallest (ties: the
        // lowest row) takes the slot when it lowers the loss.
        var expected = start.Select(p => p.ToArray()).ToArray();
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int c = 0; c < 3; c++)
                for (int j = 0; j < 2; j++)
                {
                    int[][] With(int i)
                    {
                        var trial = expected.Select(p => p.ToArray()).ToArray();
                        trial[c][j] = i;
                        return trial;
                    }
                    double Loss(int i) => PrototypeLoss(candidates, With(i), real, labels, tau);
                    int best = Enumerable.Range(0, 6).Where(i => i == expected[c][j] || !expected[c].Contains(i)).MinBy(Loss);
                    if (best != expected[c][j] && Loss(best) < Loss(expected[c][j]) - 1e-12)
                    {
                        expected = With(best);
                        changed = true;
                    }
                }
        }

        static Tensor T(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length);
        var features = candidates.Select(T).ToArray();
        var realLabels = tensor(labels.Select(l => (long)l).ToArray());
        var picks = start.Select(p => p.ToArray()).ToArray();
        var (before, after) = CandidateChoice.Discriminative(features, picks, T(real), realLabels, temperature: 0.5, rounds: 100);
        Assert.Equal(expected, picks);
        Assert.NotEqual(start, picks);
        Assert.Equal(PrototypeLoss(candidates, start, real, labels, tau), before, 9);
        Assert.Equal(PrototypeLoss(candidates, picks, real, labels, tau), after, 9);
        Assert.True(after < before);

        // With groups (row i of a class in group i mod 2, as a mode's candidates), each chosen row gives way only within its group.
        var grouped = start.Select(p => p.ToArray()).ToArray();
        var groups = Enumerable.Range(0, 3).Select(_ => tensor(Enumerable.Range(0, 6).Select(i => (long)(i % 2)).ToArray())).ToArray();
        CandidateChoice.Discriminative(features, grouped, T(real), realLabels, temperature: 0.5, rounds: 100, groups: groups);
        Assert.All(grouped, p => Assert.Equal(new[] { 0, 1 }, p.Select(i => i % 2)));
        Assert.NotEqual(start, grouped);
    }

    [Fact]
    public void KCenterStartsNearTheTargetThenTakesTheFarthest()
    {
        var features = tensor(new float[] { 0, 0, 1, 0, 5, 0, 0, 3, 4.9f, 0.1f }, 5, 2);
        Assert.Equal(new[] { 1, 2, 3 }, CandidateChoice.KCenter(features, 3, tensor(new float[] { 1.2f, 0 })));
    }
}
