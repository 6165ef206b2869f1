using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>
/// Stage (random and herding with <see cref="DistillOptions.ThroughVae"/>): the chosen real images encoded by the bundle's
/// VAE to their posterior means and decoded again, at the bundle's image size — what the generative methods could reach
/// if the denoiser returned exactly these latents. The set is written as the sample stage writes its own.
/// </summary>
internal static class ThroughVaeStage
{
    /// <summary>Returns the stage folder; the set is in its <see cref="SampleStage.SetFolder"/>.</summary>
    public static string Run(StageContext context, ModelBundle bundle, string selectStage)
    {
        var m = bundle.Manifest;
        string chosenManifest = Path.Combine(selectStage, SampleStage.SetFolder, SyntheticSetReader.ManifestFile);
        var chosen = JsonNode.Parse(File.ReadAllText(chosenManifest))!["trainIndices"]!.AsArray()
            .Select(c => c!.AsArray().Select(i => (int)i!).ToArray()).ToArray();
        string key = RunFolder.Key(new
        {
            stage = StageNames.ThroughVae, chosen, encoder = RunFolder.FileHash(bundle.PathOf(m.Vae.Encoder)),
            decoder = RunFolder.FileHash(bundle.PathOf(m.Vae.Decoder)), image = System.Text.Json.JsonSerializer.Serialize(m.Image),
            scale = m.Latent.ScalingFactor, dataId = context.DataId, context.Options.KeepBundleSize,
        });
        return context.Run.Stage(StageNames.ThroughVae, key, tmp =>
        {
            using var runtime = new BundleRuntime(bundle, context.Settings);
            using var scope = NewDisposeScope();
            var output = context.OutputImage();
            using var writer = SyntheticSetWriter.Create(Path.Combine(tmp, SampleStage.SetFolder), m.Classes, m.Image.Channels);
            for (int c = 0; c < chosen.Length; c++)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                var images = BundleImages.Load(context.Dataset.Train, m.Image.Size, m.Image.Channels, chosen[c]);
                var (mean, _) = runtime.Encode(images);
                var decoded = runtime.Decode(mean * m.Latent.ScalingFactor);
                for (int k = 0; k < chosen[c].Length; k++) writer.Add(c, output(BundleImages.ToByteImage(decoded[k])));
                context.Report("through the VAE", c + 1, chosen.Length);
            }
            writer.Commit(new JsonObject { ["trainIndices"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(chosen)) });
        });
    }
}
