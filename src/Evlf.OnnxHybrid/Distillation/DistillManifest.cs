using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// A run's <c>manifest.json</c>: what it was asked (method, options, seed), what it read (data, bundle hashes, commit)
/// and what each stage did (key, cached, wall time). The stages add their own entries (fusion log, fine-tuned bundle).
/// </summary>
internal static class DistillManifest
{
    /// <summary>The entries of an `evlf distill` run known before its first stage.</summary>
    public static JsonObject ForDistill(DistillOptions options, string dataId, ImageDataset dataset) => new()
    {
        ["method"] = DistillInputs.MethodName(options),
        ["evlf"] = options.UsesFusion,
        ["finetune"] = options.Finetune,
        ["ipc"] = options.Ipc,
        ["seed"] = options.Seed,
        ["data"] = DataRecord(options, dataId, dataset),
        ["options"] = JsonSerializer.SerializeToNode(options),
        ["library"] = Provenance.LibraryVersion,
        ["commit"] = Provenance.LibraryCommit,
    };

    /// <summary>The entries of an `evlf train-fusion` run known before its first stage.</summary>
    public static JsonObject ForFusionModule(DistillOptions options, string dataId, ImageDataset dataset, ModelBundle bundle) => new()
    {
        ["kind"] = "fusion-module",
        ["seed"] = options.Seed,
        ["data"] = DataRecord(options, dataId, dataset),
        ["bundle"] = new JsonObject { ["path"] = bundle.Directory, ["vae_encoder"] = RunFolder.FileHash(bundle.PathOf(bundle.Manifest.Vae.Encoder)) },
        ["training"] = JsonSerializer.SerializeToNode(options.FusionTraining),
        ["promptTemplate"] = options.FusionUsesPromptTemplate,
        ["library"] = Provenance.LibraryVersion,
        ["commit"] = Provenance.LibraryCommit,
    };

    /// <summary>The SHA-256 of each bundle file a generative run reads (bundle.json, the VAE, the denoiser).</summary>
    public static JsonObject BundleHashes(ModelBundle bundle, string? denoiser)
    {
        var m = bundle.Manifest;
        var hashes = new JsonObject();
        string[] files = [BundleManifest.FileName, m.Vae.Encoder, m.Vae.Decoder];
        foreach (var file in denoiser is null ? files : [.. files, bundle.Denoiser(denoiser).File])
            hashes[file] = RunFolder.FileHash(bundle.PathOf(file));
        return hashes;
    }

    /// <summary>The last entries: each stage's record and the run's wall time.</summary>
    public static void Finish(JsonObject manifest, RunFolder run, TimeSpan elapsed)
    {
        manifest["stages"] = new JsonArray(run.Records.Select(r => (JsonNode)new JsonObject
        {
            ["stage"] = r.Stage, ["key"] = r.Key, ["cached"] = r.Cached, ["seconds"] = r.Seconds,
        }).ToArray());
        manifest["seconds"] = Math.Round(elapsed.TotalSeconds, 2);
    }

    static JsonObject DataRecord(DistillOptions options, string dataId, ImageDataset dataset)
    {
        // A dataset built in memory has no spec: its name says what it was.
        var record = options.Data.Length > 0
            ? new JsonObject { ["spec"] = options.Data }
            : new JsonObject { ["spec"] = null, ["name"] = dataset.Name };
        record["id"] = dataId;
        record["train"] = dataset.Train.Count;
        record["test"] = dataset.Test.Count;
        if (options.MaxTrain is int max) record["maxTrain"] = max;
        return record;
    }
}
