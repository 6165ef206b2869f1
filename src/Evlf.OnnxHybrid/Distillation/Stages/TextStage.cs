using System.Text.Json;
using Evlf.OnnxHybrid.Bundles;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation.Stages;

/// <summary>eText: the class prompts and their embeddings.</summary>
/// <param name="Key">The text stage's key.</param>
/// <param name="Prompts">One prompt per class, in label order.</param>
/// <param name="Tokens">(classes, length, dim): the text encoder's token states, what the fusion module attends to.</param>
/// <param name="Vectors">(classes, dim): the pooled embeddings, the projector's contrastive targets.</param>
internal sealed record ClassText(string Key, IReadOnlyList<string> Prompts, Tensor Tokens, Tensor Vectors);

/// <summary>Stage: the bundle's text encoder on one prompt per class, for fusion training.</summary>
internal static class TextStage
{
    public static ClassText Run(StageContext context, ModelBundle bundle, BundleRuntime runtime)
    {
        var m = bundle.Manifest;
        // The released code conditions on the raw class string (docs/PIPELINES.md §2); the bundle template is an option.
        var prompts = Enumerable.Range(0, m.Classes.Count)
            .Select(c => context.Options.FusionUsesPromptTemplate ? m.Prompt(c) : (m.PromptNames ?? m.Classes)[c]).ToList();
        // DistillInputs has checked that the bundle has a text encoder.
        string key = RunFolder.Key(new { stage = StageNames.Text, prompts, text = JsonSerializer.Serialize(m.TextEncoder!) });
        string folder = context.Run.Stage(StageNames.Text, key, tmp =>
        {
            using var embeddings = runtime.TextEncoder.Encode(prompts);
            StageTensors.Save(tmp, "class_tokens", embeddings.Tokens);
            StageTensors.Save(tmp, "class_vectors", embeddings.Pooled);
        });
        return new ClassText(key, prompts, StageTensors.Load(folder, "class_tokens"), StageTensors.Load(folder, "class_vectors"));
    }
}
