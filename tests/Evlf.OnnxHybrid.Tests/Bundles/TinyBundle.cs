using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Models;

namespace Evlf.OnnxHybrid.Tests.Bundles;

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

    public static readonly TextUNetConfig UNet = new(LatentSize: 4, Channels: new[] { 8, 16 }, Heads: 2, Groups: 4, ContextDim: 384, ContextLength: 8, TimeEmbeddingDim: 16);

    /// <summary>The manifest with a text UNet on MiniLM (8 tokens) added, for the text-conditioned methods.</summary>
    public static BundleManifest WithUNet(BundleManifest m) => m with
    {
        TextEncoder = Evlf.OnnxHybrid.Text.TextEncoderConfig.MiniLm(8),
        PromptTemplate = "a photo of a {class}",
        Denoisers = new(m.Denoisers)
        {
            ["unet"] = new DenoiserSpec
            {
                Kind = DenoiserSpec.UNetText, File = "unet.onnx", SampleInput = TextUNet.SampleInput, TimestepInput = TextUNet.TimestepInput,
                ConditionInput = TextUNet.ContextInput, Output = TextUNet.NoiseOutput, Schedule = ScheduleSpec.ScaledLinear, FinetunePattern = "bias",
            },
        },
    };

    public static string Create(string directory, Func<BundleManifest, BundleManifest>? change = null, ClassDitConfig? dit = null, bool withUNet = false)
    {
        Directory.CreateDirectory(directory);
        KlVae.BuildEncoder(Vae, 1).Save(Path.Combine(directory, "vae_encoder.onnx"));
        KlVae.BuildDecoder(Vae, 2).Save(Path.Combine(directory, "vae_decoder.onnx"));
        ClassDit.Build(dit ?? Dit, 3).Save(Path.Combine(directory, "dit.onnx"));
        var manifest = Manifest with { Denoisers = new() { ["dit"] = Manifest.Denoisers["dit"] with { FinetunePattern = "(bias|y_embedder)" } } };
        if (withUNet)
        {
            TextUNet.Build(UNet, 4).Save(Path.Combine(directory, "unet.onnx"));
            manifest = WithUNet(manifest);
        }
        ModelBundle.WriteManifest(directory, (change ?? (m => m))(manifest));
        return directory;
    }

    /// <summary>An ImageFolder dataset with the bundle's classes a, b, c: 16×16 gray images, distinct per class.</summary>
    public static string Dataset(string directory, int perClass = 8)
    {
        var rng = new Random(5);
        foreach (var split in new[] { "train", "val" })
            for (int c = 0; c < 3; c++)
            {
                string dir = Path.Combine(directory, split, ((char)('a' + c)).ToString());
                Directory.CreateDirectory(dir);
                for (int i = 0; i < perClass; i++)
                {
                    var image = new Evlf.OnnxHybrid.Data.ByteImage(16, 16, 1);
                    for (int p = 0; p < 256; p++) image.Pixels[p] = (byte)Math.Clamp(60 * c + (p % 16) * 4 + rng.Next(40), 0, 255);
                    File.WriteAllBytes(Path.Combine(dir, $"{i}.png"), Evlf.OnnxHybrid.Data.ImageCodec.EncodePng(image));
                }
            }
        return directory;
    }
}
