using System.Diagnostics;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Tests.Bundles;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>
/// Safety as a user meets it: the `evlf` command never destroys a user's files, refuses unknown options and overlapping
/// paths, catches every mistake before the first stage with exit 2 and one line, runs one process per run folder, and a
/// run killed with SIGKILL resumes without losing a finished stage.
/// </summary>
public class SafetyTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-safety-").FullName;
    readonly string bundle;
    readonly string data;

    public SafetyTests()
    {
        bundle = TinyBundle.Create(Path.Combine(root, "bundle"));
        data = TinyBundle.Dataset(Path.Combine(root, "data"));
    }

    public void Dispose() => Directory.Delete(root, true);

    string UserFolder(string name) => Evlf.OnnxHybrid.Tests.Output.UserFolder.Create(root, name);

    static string[] Listing(string dir) => Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).Order().ToArray();

    static string[] BundleHashes(string dir) => Directory.GetFiles(dir).Order().Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))).ToArray();

    string[] Sample(string outDir, params string[] extra) =>
        ["sample", "--bundle", bundle, "--denoiser", "dit", "--n", "1", "--steps", "2", "--out", outDir, "--quiet", .. extra];

    string[] Distill(string outDir, params string[] extra) =>
        ["distill", "--bundle", bundle, "--data", "folder:" + data, "--method", "random", "--ipc", "1", "--out", outDir, "--quiet", .. extra];

    [Fact]
    public void AFolderOfUserFilesIsRefusedAndKeptWhole()
    {
        var thesis = UserFolder("thesis");
        var before = Listing(thesis);
        Assert.Contains("--force", EvlfProcess.AssertUserError(EvlfProcess.Run(Sample(thesis))));
        Assert.Contains("thesis.tex", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(thesis))));
        Assert.Equal(before, Listing(thesis));

        // --force adds evlf's outputs beside the user's files and deletes none of them.
        var forced = EvlfProcess.Run(Sample(thesis, "--force"));
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Equal("x", File.ReadAllText(Path.Combine(thesis, "thesis.tex")));
        Assert.True(Directory.Exists(Path.Combine(thesis, "sub")));
        Assert.True(File.Exists(Path.Combine(thesis, "manifest.json")));

        // A checkout (--out .) is a folder of user files too.
        var checkout = UserFolder("checkout");
        Directory.CreateDirectory(Path.Combine(checkout, ".git"));
        EvlfProcess.AssertUserError(EvlfProcess.Run(Sample(Path.Combine(checkout, "."))));
        Assert.True(Directory.Exists(Path.Combine(checkout, ".git")));
    }

    [Fact]
    public void OutputsNamedLikeUserEntriesAreNeverReplacedEvenWithForce()
    {
        var dir = UserFolder("own-images");
        Directory.CreateDirectory(Path.Combine(dir, "images", "a"));
        File.WriteAllText(Path.Combine(dir, "images", "a", "mine.png"), "mine");
        File.WriteAllText(Path.Combine(dir, "manifest.json"), "{\"mine\": true}");
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(dir, "--force")));
        Assert.Contains("not written by evlf", line);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "images", "a", "mine.png")));
        Assert.Equal("{\"mine\": true}", File.ReadAllText(Path.Combine(dir, "manifest.json")));
    }

    [Fact]
    public void ARunReplacesItsOwnOutputs()
    {
        var run = Path.Combine(root, "rerun");
        foreach (var seed in new[] { "0", "1" })
        {
            var r = EvlfProcess.Run(Distill(run, "--seed", seed));
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        Assert.Equal(1, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")))!["seed"]!);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(run, "images"), "*.png", SearchOption.AllDirectories).Length);
    }

    [Theory]
    [InlineData("distill", "--frobnicate")]
    [InlineData("train-fusion", "--frobnicate")]
    [InlineData("inspect", "--frobnicate")]
    [InlineData("pretrain", "--frobnicate")]
    [InlineData("sample", "--frobnicate")]
    [InlineData("bench", "--frobnicate")]
    [InlineData("eval", "--frobnicate")]
    [InlineData("report", "--frobnicate")]
    [InlineData("eval", "--epoch")]
    [InlineData("distill", "--fusion-sample")]
    public void EveryCommandRefusesAnUnknownOption(string command, string option)
    {
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run(command, option, "1"));
        Assert.Contains($"'{option.TrimStart('-')}'", line);
    }

    [Theory]
    [InlineData("--preset", "best", "--preset must be default or released; got 'best'.")]
    [InlineData("--start", "prototypes", "--start must be noise, modes, real or real-neighbours; got 'prototypes'.")]
    [InlineData("--modes", "medoid", "--modes must be centroid, closest-real or herding; got 'medoid'.")]
    [InlineData("--guidance-interval", "0.8,0.2", "--guidance-interval must be LOW,HIGH with 0 ≤ LOW ≤ HIGH ≤ 1; got '0.8,0.2'.")]
    [InlineData("--candidates", "0", "--candidates must be at least 1; got 0.")]
    [InlineData("--selection", "random", "--selection must be herding, k-center, kernel-herding or discriminative; got 'random'.")]
    [InlineData("--strength", "1.5", "--strength must be in [0, 1]; got 1.5.")]
    [InlineData("--fusion-lambda2", "-1", "--fusion-lambda2 must be a finite number of at least 0; got -1.")]
    public void SamplingFlagsOutOfRangeAreOneLineErrors(string flag, string value, string message)
    {
        var outDir = Path.Combine(root, "refused-flag");
        // Spellings the flag cannot mean are usage errors (with the hint); values are the library's to check, named by flag.
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(outDir, flag, value)));
        Assert.True(line == $"error: {message} (see evlf --help)" || line == $"error: {message}", line);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void OutputsOverlappingInputsAreRefusedBeforeAnyWork()
    {
        var bundleBefore = BundleHashes(bundle);
        Assert.Contains("--bundle", EvlfProcess.AssertUserError(EvlfProcess.Run(Sample(bundle))));
        Assert.Contains("--bundle", EvlfProcess.AssertUserError(EvlfProcess.Run(Sample(Path.Combine(bundle, "x")))));
        Assert.Contains("--data", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(Path.Combine(data, "train", "new")))));
        Assert.False(Directory.Exists(Path.Combine(data, "train", "new")));

        var setDir = Path.Combine(root, "set");
        Assert.Equal(0, EvlfProcess.Run(Distill(setDir)).ExitCode);
        var setBefore = Listing(setDir);
        var sameSet = EvlfProcess.Run("distill", "--bundle", bundle, "--data", "folder:" + setDir, "--method", "random", "--ipc", "1", "--out", setDir, "--quiet");
        Assert.Contains("--data", EvlfProcess.AssertUserError(sameSet));
        Assert.Equal(setBefore, Listing(setDir));

        Assert.Contains("--cache", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(Path.Combine(root, "c"), "--method", "dit", "--cache", Path.Combine(bundle, "cache")))));
        Assert.Equal(bundleBefore, BundleHashes(bundle));
    }

    [Fact]
    public void MistakesAreCaughtBeforeTheFirstStage()
    {
        var o = Path.Combine(root, "never");
        Assert.Contains("--steps", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(o, "--method", "dit", "--steps", "5000"))));
        Assert.Contains("--cfg", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(o, "--method", "dit", "--cfg", "NaN"))));
        Assert.Contains("--strength", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(o, "--method", "dit", "--strength", "NaN"))));
        Assert.Contains("cuda", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(o, "--method", "dit", "--device", "cuda"))));
        Assert.Contains("--steps", EvlfProcess.AssertUserError(EvlfProcess.Run(Sample(o, "--steps", "5000"))));
        Assert.Contains("fusion", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(o, "--method", "mgd3", "--evlf", "--fusion-epochs", "1", "--fusion-samples", "32", "--max-train", "20"))));
        Assert.False(Directory.Exists(o), "a refused run left its output folder behind");

        var file = Path.Combine(root, "a-file");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(file))));
        Assert.Contains("cannot be created", EvlfProcess.AssertUserError(EvlfProcess.Run(Distill(Path.Combine(file, "run")))));
        Assert.Contains("cannot be created", EvlfProcess.AssertUserError(EvlfProcess.Run(Sample("/proc/evlf-test"))));

        var set = Path.Combine(root, "eval-set");
        Assert.Equal(0, EvlfProcess.Run(Distill(set)).ExitCode);
        Assert.Contains("--resolution", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", set, "--data", "folder:" + data, "--resolution", "100000")));
        Assert.Contains("--threads", EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", set, "--data", "folder:" + data, "--threads", "100000")));
        Assert.Contains("--threads", EvlfProcess.AssertUserError(EvlfProcess.Run("report", set, "--out", Path.Combine(root, "r.md"), "--threads", "100000")));
    }

    [Fact]
    public void ReportAndBenchNeverReplaceAFileTheyDidNotWrite()
    {
        var set = Path.Combine(root, "report-set");
        Assert.Equal(0, EvlfProcess.Run(Distill(set)).ExitCode);
        var readme = Path.Combine(root, "README.md");
        File.WriteAllText(readme, "# mine");
        Assert.Contains("not written by evlf report", EvlfProcess.AssertUserError(EvlfProcess.Run("report", set, "--out", readme, "--no-metrics", "--quiet")));
        Assert.Equal("# mine", File.ReadAllText(readme));
        var report = Path.Combine(root, "RESULTS.md");
        Assert.Equal(0, EvlfProcess.Run("report", set, "--out", report, "--no-metrics", "--quiet").ExitCode);
        Assert.Equal(0, EvlfProcess.Run("report", set, "--out", report, "--no-metrics", "--quiet").ExitCode); // its own file

        var benchDir = Directory.CreateDirectory(Path.Combine(root, "bench")).FullName;
        File.WriteAllText(Path.Combine(benchDir, "bench.json"), "[1, 2]");
        Assert.Contains("not written by evlf bench", EvlfProcess.AssertUserError(EvlfProcess.Run("bench", "--quick", "--out", benchDir)));
        Assert.Equal("[1, 2]", File.ReadAllText(Path.Combine(benchDir, "bench.json")));
    }

    [Fact]
    public void SeedsThatOnceCollidedGiveDifferentImages()
    {
        string a = Path.Combine(root, "seed-a"), b = Path.Combine(root, "seed-b");
        Assert.Equal(0, EvlfProcess.Run(Sample(a, "--seed", "0")).ExitCode);
        Assert.Equal(0, EvlfProcess.Run(Sample(b, "--seed", "536870912")).ExitCode);
        var first = Directory.GetFiles(Path.Combine(a, "images"), "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.NotEmpty(first);
        Assert.Contains(first, f => !File.ReadAllBytes(f).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, Path.GetRelativePath(a, f)))));
    }

    [Fact]
    public void ASecondRunOnABusyFolderExitsTwoNamingTheHolderAndStaleTemporariesGo()
    {
        var busy = Path.Combine(root, "busy");
        using var first = EvlfProcess.Start(null, "sample", "--bundle", bundle, "--denoiser", "dit", "--n", "200", "--steps", "1000", "--out", busy, "--quiet");
        try
        {
            var holder = Path.Combine(busy, ".evlf-lock.holder.json");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(holder) && !first.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50);
            Assert.False(first.HasExited, "the first run ended before the second could meet it");
            var line = EvlfProcess.AssertUserError(EvlfProcess.Run(Sample(busy)));
            Assert.Contains($"in use by process {first.Id}", line);
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }

        // The dead run's lock is gone with it; what it left half-done is cleaned up by the next run.
        Assert.True(EvlfProcess.Run(Distill(busy)).ExitCode == 0);
        var staleStage = Path.Combine(busy, ".stages", "select-0123456789abcdef.tmp-999999");
        Directory.CreateDirectory(staleStage);
        var next = EvlfProcess.Run(Distill(busy));
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.False(Directory.Exists(staleStage));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(busy), p => p.EndsWith(".evlf-tmp"));
    }

    [Fact]
    public void OnnxRuntimeKeepsNoTelemetry()
    {
        var home = Directory.CreateDirectory(Path.Combine(root, "home")).FullName;
        var r = EvlfProcess.RunWith(new Dictionary<string, string> { ["HOME"] = home, ["XDG_CACHE_HOME"] = Path.Combine(home, ".cache") },
            "inspect", Path.Combine(bundle, "dit.onnx"), "--parity");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(home, ".cache", "Microsoft", "DeveloperTools", ".onnxruntime")));
    }

    [Fact]
    public void ARunKilledMidStageResumesWithoutLosingAFinishedStageAndEndsWithTheSameBytes()
    {
        var bigData = TinyBundle.Dataset(Path.Combine(root, "big-data"), perClass: 60);
        var textBundle = TinyBundle.Create(Path.Combine(root, "text-bundle"), withUNet: true);
        string[] Args(string outDir) => ["distill", "--bundle", textBundle, "--data", "folder:" + bigData, "--method", "mgd3", "--evlf", "--ipc", "2",
            "--steps", "4", "--fusion-epochs", "30", "--fusion-samples", "0", "--seed", "3", "--out", outDir, "--quiet"];
        var reference = EvlfProcess.Run(Args(Path.Combine(root, "uninterrupted")));
        Assert.True(reference.ExitCode == 0, reference.Stderr);

        var killedOut = Path.Combine(root, "killed");
        using (var run = EvlfProcess.Start(null, Args(killedOut)))
        {
            var stages = Path.Combine(killedOut, ".stages");
            var clock = Stopwatch.StartNew();
            while (!run.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)
                   && !(Directory.Exists(stages) && Directory.EnumerateDirectories(stages, "fusion-*.tmp-*").Any())) Thread.Sleep(20);
            Assert.False(run.HasExited, "the run finished before it could be killed mid-stage");
            run.Kill(entireProcessTree: true); // SIGKILL
            run.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(killedOut, "manifest.json")));

        var resumed = EvlfProcess.Run(Args(killedOut));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(killedOut, "manifest.json")))!;
        var cached = manifest["stages"]!.AsArray().ToDictionary(s => (string)s!["stage"]!, s => (bool)s!["cached"]!);
        Assert.True(cached["latents"], "the latents stage, finished before the kill, was produced again");
        Assert.False(cached["fusion"]);
        var expected = Path.Combine(root, "uninterrupted", "images");
        var files = Directory.GetFiles(expected, "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.Equal(6, files.Length);
        foreach (var f in files)
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(killedOut, "images", Path.GetRelativePath(expected, f))));
    }

    [Fact]
    public void ChoosingAmongCandidatesGivesTheSameBytesWhetherTheStagesBeforeItRanOrCameFromTheCache()
    {
        // The uninterrupted run trains the fusion module in its process, which turns libtorch's oneDNN convolutions off
        // for the rest of it (ConvolutionBackend); a run whose stages up to the candidates come from the cache trains no
        // imported graph before the choice. The choice's network must train on the same kernels in both. At this size the
        // two kernel families happen to choose alike (the test also passed with the fix taken out, 300 images per class and
        // 16 candidates included): it guards the property; the Fashion-MNIST run where they chose 3 of 100 images
        // differently is in docs/EVALUATION.md (§12).
        var data = TinyBundle.Dataset(Path.Combine(root, "choice-data"), perClass: 40);
        var textBundle = TinyBundle.Create(Path.Combine(root, "choice-bundle"), withUNet: true);
        string[] Args(string outDir, params string[] extra) => ["distill", "--bundle", textBundle, "--data", "folder:" + data, "--method", "mgd3", "--evlf",
            "--ipc", "2", "--candidates", "4", "--steps", "4", "--fusion-epochs", "2", "--fusion-samples", "0", "--seed", "5", "--out", outDir, "--quiet", .. extra];
        var whole = Path.Combine(root, "choice-whole");
        var reference = EvlfProcess.Run(Args(whole));
        Assert.True(reference.ExitCode == 0, reference.Stderr);

        // Twice: the embedding network trained again in the run, and read from the cache as the first run saved it.
        foreach (bool trainEmbedding in new[] { true, false })
        {
            string name = trainEmbedding ? "trained" : "saved";
            var cache = Directory.CreateDirectory(Path.Combine(root, "choice-cache-" + name)).FullName;
            foreach (var stage in Directory.GetDirectories(Path.Combine(whole, ".stages")).Where(d => !Path.GetFileName(d).StartsWith("choose-", StringComparison.Ordinal)
                && !(trainEmbedding && Path.GetFileName(d).StartsWith("embedding-", StringComparison.Ordinal))))
                CopyTree(stage, Path.Combine(cache, Path.GetFileName(stage)));
            var fromCache = Path.Combine(root, "choice-from-cache-" + name);
            var r = EvlfProcess.Run(Args(fromCache, "--cache", cache));
            Assert.True(r.ExitCode == 0, r.Stderr);
            var stages = JsonNode.Parse(File.ReadAllText(Path.Combine(fromCache, "manifest.json")))!["stages"]!.AsArray()
                .ToDictionary(s => (string)s!["stage"]!, s => (bool)s!["cached"]!);
            Assert.True(stages["fusion"] && stages["sample"] && !stages["choose"], "only the choice was to run again");
            Assert.Equal(!trainEmbedding, stages["embedding"]);
            var expected = Path.Combine(whole, "images");
            var files = Directory.GetFiles(expected, "*.png", SearchOption.AllDirectories).Order().ToArray();
            Assert.Equal(6, files.Length);
            foreach (var f in files)
                Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(fromCache, "images", Path.GetRelativePath(expected, f))));
        }
    }

    /// <summary>Copies the folder <paramref name="from"/> with everything in it to <paramref name="to"/>.</summary>
    internal static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
