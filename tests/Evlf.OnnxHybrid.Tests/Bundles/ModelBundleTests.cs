using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Tests.Cli;

namespace Evlf.OnnxHybrid.Tests.Bundles;

public class ModelBundleTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-bundle-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    string Dir(string name) => Path.Combine(root, name);

    [Fact]
    public void AGoodBundleLoadsAndEveryComponentOpens()
    {
        var dir = TinyBundle.Create(Dir("good"));
        var (bundle, problems) = ModelBundle.Check(dir);
        Assert.Empty(problems);
        Assert.Equal("a", bundle!.Manifest.Classes[0]);
        using var dit = bundle.OpenDenoiser("dit");
        Assert.Equal(new long?[] { null, 8, 4, 4 }, dit.Outputs[0].Dims);

        var r = EvlfProcess.Run("inspect", dir);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("dit-class", r.Stdout);
        Assert.Contains("linear", r.Stdout);
        Assert.Contains("no problems found", r.Stdout);
    }

    [Fact]
    public void LatentChannelsThatDisagreeWithTheDenoiserAreNamed()
    {
        var dir = TinyBundle.Create(Dir("mismatch"), dit: TinyBundle.Dit with { LatentChannels = 3 });
        var (_, problems) = ModelBundle.Check(dir);
        Assert.Contains(problems, p => p.Contains("dit.onnx") && p.Contains("'x'") && p.Contains("expected 4"));
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir));
        Assert.Contains("dit.onnx", line);
    }

    [Fact]
    public void AMissingComponentFileIsNamed()
    {
        var dir = TinyBundle.Create(Dir("missing"));
        File.Delete(Path.Combine(dir, "vae_decoder.onnx"));
        var e = Assert.Throws<UserInputException>(() => ModelBundle.Load(dir));
        Assert.Contains("vae.decoder 'vae_decoder.onnx' was not found", e.Message);
        Assert.Contains("vae_decoder.onnx", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir)));
    }

    [Fact]
    public void ManifestProblemsAreAllListed()
    {
        var dir = TinyBundle.Create(Dir("bad"), m => m with
        {
            Latent = m.Latent with { ScalingFactor = 0 },
            Denoisers = new() { ["dit"] = m.Denoisers["dit"] with { NullClass = 1, Schedule = new ScheduleSpec { BetaStart = 0.5, BetaEnd = 0.1 } } },
            PromptTemplate = "a photo",
        });
        var e = Assert.Throws<UserInputException>(() => ModelBundle.Load(dir));
        Assert.Contains("4 problems", e.Message);
        Assert.Contains("latent.scaling_factor", e.Message);
        Assert.Contains("null_class is 1", e.Message);
        Assert.Contains("beta_start 0.5", e.Message);
        Assert.Contains("prompt_template", e.Message);
    }

    [Fact]
    public void MissingOrBrokenManifestIsOneSentence()
    {
        var dir = Dir("empty");
        Directory.CreateDirectory(dir);
        Assert.Contains("bundle.json is missing", Assert.Throws<UserInputException>(() => ModelBundle.Load(dir)).Message);
        File.WriteAllText(Path.Combine(dir, "bundle.json"), "{ \"image\": { \"channels\": \"one\" } }");
        Assert.Contains("bundle.json is not valid", Assert.Throws<UserInputException>(() => ModelBundle.Load(dir)).Message);
        Assert.Contains("not found", Assert.Throws<UserInputException>(() => ModelBundle.Load(Dir("nowhere"))).Message);
    }
}
