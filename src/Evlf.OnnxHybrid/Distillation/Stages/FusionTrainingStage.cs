using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Fusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>The trained fusion module and projector.</summary>
/// <param name="Folder">The stage folder: <see cref="DistillationPipeline.FusionModuleFiles"/> and the class text it was trained with.</param>
/// <param name="Key">The fusion stage's key.</param>
/// <param name="Config">The module's architecture, text shape included.</param>
/// <param name="Record">The manifest's <c>fusion</c> entry: config, prompts, training log and test-split quality.</param>
internal sealed record FusionModule(string Folder, string Key, FusionConfig Config, JsonObject Record)
{
    public string FusionPath => Path.Combine(Folder, "fusion.onnx");
}

/// <summary>
/// EVLF stage A: trains the fusion module and projector (<see cref="FusionTrainer"/>) on zImg and eText, checkpointing in a
/// work folder so a killed run resumes, then measures the module on the test split, which it never saw.
/// </summary>
internal static class FusionTrainingStage
{
    public static FusionModule Run(StageContext context, ModelBundle bundle, BundleRuntime runtime, EncodedLatents latents, ClassText text)
    {
        var options = context.Options;
        var m = bundle.Manifest;
        var config = (options.Fusion ?? new FusionConfig(m.Latent.Channels, m.Latent.Size, TextDim: 0, TextLength: 0))
            with { TextDim = (int)text.Tokens.shape[2], TextLength = (int)text.Tokens.shape[1] };
        string key = RunFolder.Key(new
        {
            stage = StageNames.Fusion, latentKey = latents.EncoderKey, textKey = text.Key, config, training = options.FusionTraining, options.Seed,
        });
        string folder = context.Run.Stage(StageNames.Fusion, key, (tmp, work) =>
        {
            var data = new FusionData(StageTensors.Load(latents.Folder, "mean"), StageTensors.Load(latents.Folder, "labels"), text.Tokens, text.Vectors,
                StageTensors.Load(latents.Folder, "mean_flip"));
            var result = FusionTrainer.Train(config, data, options.FusionTraining, options.Seed, work, context.TrainingSteps(), context.CancellationToken, context.TrainingDevice);
            File.Copy(result.FusionPath, Path.Combine(tmp, "fusion.onnx"));
            File.Copy(result.ProjectorPath, Path.Combine(tmp, "projector.onnx"));
            File.Copy(Path.Combine(work, "fusion-log.json"), Path.Combine(tmp, "fusion-log.json"));
            StageTensors.Save(tmp, "class_tokens", text.Tokens);
            StageTensors.Save(tmp, "class_vectors", text.Vectors);
            File.WriteAllText(Path.Combine(tmp, "fusion-test.json"), JsonSerializer.Serialize(TestQuality(context, bundle, runtime, tmp, text, config)));
        });
        var record = new JsonObject
        {
            ["config"] = JsonSerializer.SerializeToNode(config),
            ["prompts"] = new JsonArray(text.Prompts.Select(p => (JsonNode)p).ToArray()),
            ["log"] = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "fusion-log.json"))),
            ["test"] = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "fusion-test.json"))),
        };
        return new FusionModule(folder, key, config, record);
    }

    /// <summary>The module's quality on the test split, which it never saw: latent kept, classes separated.</summary>
    static FusionQuality TestQuality(StageContext context, ModelBundle bundle, BundleRuntime runtime, string moduleFolder, ClassText text, FusionConfig config)
    {
        using var testScope = NewDisposeScope();
        var m = bundle.Manifest;
        var test = context.Dataset.Test;
        var testImages = BundleImages.Load(test, m.Image.Size, m.Image.Channels,
            progress: context.Progress.Renamed("load test images"));
        var (testMean, _) = LatentsStage.Encode(context, runtime, testImages, "encode test");
        var testLabels = tensor(test.Labels().Select(l => (long)l).ToArray());
        return FusionEvaluation.Measure(Path.Combine(moduleFolder, "fusion.onnx"), Path.Combine(moduleFolder, "projector.onnx"), testMean, testLabels,
            text.Tokens, text.Vectors, context.Settings, config);
    }
}
