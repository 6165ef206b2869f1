using Evlf.OnnxHybrid.Models;

namespace Evlf.OnnxHybrid.Tests.Models;

/// <summary>A small but complete bundle (random weights): VAE 1×16×16 ↔ 4×4×4 latents, a class DiT, no text encoder.</summary>
public static class TinyBundle
{
    public static readonly KlVaeConfig Vae = new(ImageSize: 16, Channels: new[] { 4, 8, 8 }, Groups: 2);
    public static readonly ClassDitConfig Dit = new(LatentSize: 4, Hidden: 16, Depth: 1, Heads: 2, Classes: 3);

    public static BundleManifest Manifest => new()
    {
        Name = "tiny",
        Image = new ImageSpec { Channels = 1, Size = 16 },
        Latent = new LatentSpec { Channels = 4, Size = 4, ScalingFactor = 0.5 },
        Denoisers = new() { ["dit"] = new DenoiserSpec { Kind = DenoiserSpec.DitClass, File = "dit.onnx", LearnedSigma = true, NullClass = 3 } },
        Classes = new() { "a", "b", "c" },
    };

    public static string Create(string directory, Func<BundleManifest, BundleManifest>? change = null, ClassDitConfig? dit = null)
    {
        Directory.CreateDirectory(directory);
        KlVae.BuildEncoder(Vae, 1).Save(Path.Combine(directory, "vae_encoder.onnx"));
        KlVae.BuildDecoder(Vae, 2).Save(Path.Combine(directory, "vae_decoder.onnx"));
        ClassDit.Build(dit ?? Dit, 3).Save(Path.Combine(directory, "dit.onnx"));
        ModelBundle.WriteManifest(directory, (change ?? (m => m))(Manifest));
        return directory;
    }
}
