using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Tests.Cli;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Bundles;

/// <summary>The files bundle.json names are resolved, links included, and must stay in the bundle.</summary>
public class BundleConfinementTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-bundle-paths-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    /// <summary>A tiny bundle whose VAE decoder lives outside it (a valid model, so only the location is wrong).</summary>
    string BundleWithDecoderAt(Func<string, string> spelling)
    {
        var dir = TinyBundle.Create(Path.Combine(root, "bundle"));
        var manifest = ModelBundle.Load(dir).Manifest;
        var outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
        File.Move(Path.Combine(dir, "vae_decoder.onnx"), Path.Combine(outside, "vae_decoder.onnx"));
        ModelBundle.WriteManifest(dir, manifest with { Vae = manifest.Vae with { Decoder = spelling(outside) } });
        return dir;
    }

    public static TheoryData<string> Spellings => new() { "dotdot", "absolute", "link" };

    string Spell(string kind, string outside) => kind switch
    {
        "dotdot" => "../outside/vae_decoder.onnx",
        "absolute" => Path.Combine(outside, "vae_decoder.onnx"),
        _ => Link(outside),
    };

    string Link(string outside)
    {
        File.CreateSymbolicLink(Path.Combine(root, "bundle", "decoder-link.onnx"), Path.Combine(outside, "vae_decoder.onnx"));
        return "decoder-link.onnx";
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void AComponentOutsideTheBundleIsAProblemAndIsNeverOpened(string kind)
    {
        var dir = BundleWithDecoderAt(outside => Spell(kind, outside));
        var e = Assert.Throws<UserInputException>(() => ModelBundle.Load(dir));
        Assert.Contains("vae.decoder", e.Message);
        Assert.Contains(kind == "absolute" ? "absolute path" : "outside", e.Message);

        var (bundle, problems) = ModelBundle.Check(dir);
        Assert.Single(problems);
        Assert.Throws<UserInputException>(() => bundle!.OpenVaeDecoder());
        Assert.Throws<UserInputException>(() => bundle!.PathOf(bundle.Manifest.Vae.Decoder));

        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir));
        Assert.Contains("vae.decoder", line);
    }

    [Fact]
    public void InspectDoesNotOpenAComponentItFlagged()
    {
        if (!OperatingSystem.IsLinux()) return;
        // A FIFO outside the bundle: opening it would block until a writer comes, so a run that finishes proves it was not opened.
        var dir = TinyBundle.Create(Path.Combine(root, "bundle"));
        var fifo = Path.Combine(root, "fifo.onnx");
        SpecialFiles.MakeFifo(fifo);
        var manifest = ModelBundle.Load(dir).Manifest;
        ModelBundle.WriteManifest(dir, manifest with { Vae = manifest.Vae with { Decoder = "../fifo.onnx" } });

        var check = Task.Run(() => ModelBundle.Check(dir));
        Assert.True(check.Wait(TimeSpan.FromSeconds(60)), "ModelBundle.Check opened a component outside the bundle");
        Assert.Contains(check.Result.Problems, p => p.Contains("vae.decoder '../fifo.onnx'") && p.Contains("outside"));
    }

    [Fact]
    public void AFifoInsideTheBundleIsNotOpenedEither()
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = TinyBundle.Create(Path.Combine(root, "bundle"));
        File.Delete(Path.Combine(dir, "dit.onnx"));
        SpecialFiles.MakeFifo(Path.Combine(dir, "dit.onnx"));
        var check = Task.Run(() => ModelBundle.Check(dir));
        Assert.True(check.Wait(TimeSpan.FromSeconds(60)), "ModelBundle.Check opened a FIFO");
        Assert.Contains(check.Result.Problems, p => p.Contains("denoisers.dit.file") && p.Contains("not a regular file"));
    }

    [Theory]
    [InlineData("""{"components": {"dit": {"file": "dit.onnx", "folder": "../../outside"}}}""")]
    [InlineData("""{"components": {"dit": {"file": "../outside/dit.onnx", "folder": "dit"}}}""")]
    public void ParityReferencesOutsideTheBundleAreNotRead(string index)
    {
        var dir = TinyBundle.Create(Path.Combine(root, "bundle"));
        var outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
        File.Copy(Path.Combine(dir, "dit.onnx"), Path.Combine(outside, "dit.onnx"));
        Directory.CreateDirectory(Path.Combine(outside, "inputs"));
        Directory.CreateDirectory(Path.Combine(dir, "reference", "dit", "inputs"));
        File.WriteAllText(Path.Combine(dir, "reference", "reference.json"), index);
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir, "--parity"));
        Assert.Contains("outside", line);
    }
}
