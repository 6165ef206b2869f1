using Microsoft.Extensions.Logging;
using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>
/// The data and bundle a run reads, opened and checked against its options before the first stage, so that a mistake
/// costs no work and reads as one line.
/// </summary>
/// <param name="Dataset">The data, cut to <see cref="DistillOptions.MaxTrain"/> images per split.</param>
/// <param name="Bundle">The bundle of a generative run (null for random and herding).</param>
/// <param name="Denoiser">The bundle's denoiser the method samples with (null for random, herding and train-fusion).</param>
internal sealed record DistillInputs(ImageDataset Dataset, ModelBundle? Bundle, string? Denoiser)
{
    /// <summary>`evlf distill`'s inputs.</summary>
    public static DistillInputs ForDistill(DistillOptions options, ILogger logger)
    {
        options.Validate();
        bool readsBundle = options.UsesGenerativeModel || options.ThroughVae;
        if (readsBundle) OnnxSession.RequireDevice(options.Device);
        // Generative methods read the data with the bundle's channel count (a grayscale bundle sees folders as gray).
        var bundle = readsBundle ? ModelBundle.Load(options.Bundle) : null;
        RequireApart(options, bundle);
        var dataset = OpenData(options, bundle is null ? null : new DatasetOptions(Channels: bundle.Manifest.Image.Channels), logger);
        var perClass = dataset.Train.CountPerClass(dataset.ClassNames.Count);
        int smallest = perClass.Min();
        if (options.Ipc > smallest)
        {
            string smallestClass = dataset.ClassNames[Array.IndexOf(perClass, smallest)];
            throw UserInputException.ForOption(DistillOptions.OptionName(nameof(DistillOptions.Ipc)),
                $"{options.Ipc} is larger than class '{smallestClass}', which has {smallest} training images.");
        }
        if (options.ThroughVae) CheckBundleFits(options, bundle!, dataset);
        return new DistillInputs(dataset, bundle, options.UsesGenerativeModel ? CheckGenerative(options, bundle!, dataset) : null);
    }

    /// <summary>`evlf train-fusion`'s inputs: a bundle with a text encoder, and data enough for one optimizer step.</summary>
    public static DistillInputs ForFusionModule(DistillOptions options, ILogger logger)
    {
        options.Validate();
        OnnxSession.RequireDevice(options.Device);
        // It trains: cuda that libtorch cannot give is refused before any work (auto's notice waits for the training itself).
        if (options.Device == ExecutionDevice.Cuda) ComputeDevice.Resolve(options.Device, null, DistillOptions.OptionName(nameof(DistillOptions.Device)));
        var bundle = ModelBundle.Load(options.Bundle);
        RequireTextEncoder(options, bundle);
        RequireApart(options, bundle);
        var dataset = OpenData(options, new DatasetOptions(Channels: bundle.Manifest.Image.Channels), logger);
        CheckBundleFits(options, bundle, dataset);
        FusionTrainer.RequireOptimizerSteps(dataset.Train.Count, options.FusionTraining);
        return new DistillInputs(dataset, bundle, null);
    }

    /// <summary>The method as the user writes it.</summary>
    public static string MethodName(DistillOptions options) => options.Method.ToString().ToLowerInvariant();

    /// <summary>The data of <see cref="DistillOptions.Data"/>, cut to <see cref="DistillOptions.MaxTrain"/> images per split.</summary>
    static ImageDataset OpenData(DistillOptions options, DatasetOptions? datasetOptions, ILogger logger)
    {
        var dataset = DataSpec.Open(options.Data, datasetOptions, logger);
        if (options.MaxTrain is not int max) return dataset;
        DatasetSplit First(DatasetSplit split) => split.Count <= max ? split : split.Subset(Enumerable.Range(0, max).ToArray());
        return dataset.WithSplits(First(dataset.Train), First(dataset.Test));
    }

    /// <summary>The run's outputs (--out, --cache) apart from its inputs (--data, --bundle), before anything is written.</summary>
    static void RequireApart(DistillOptions options, ModelBundle? bundle)
    {
        var inputs = new List<PathsApart.Named> { new("--data", PathsApart.DataFolder(options.Data)) };
        if (bundle is not null) inputs.Add(new("--bundle", bundle.Directory));
        PathsApart.Require([new("--out", options.Out), new("--cache", options.Cache)], inputs);
    }

    /// <summary>The checks of a generative run against its bundle and data; returns the denoiser it samples with.</summary>
    static string CheckGenerative(DistillOptions options, ModelBundle bundle, ImageDataset dataset)
    {
        string denoiser = RequireDenoiser(options, bundle);
        if (options.UsesFusion)
        {
            RequireTextEncoder(options, bundle);
            FusionTrainer.RequireOptimizerSteps(dataset.Train.Count, options.FusionTraining);
        }
        CheckBundleFits(options, bundle, dataset);
        BundleRuntime.CheckSampling(bundle, denoiser, new SampleOptions(options.Steps, options.GuidanceScale, options.DitGuidanceChannels),
            options.SamplingStart != SampleStart.Noise && options.Strength > 0 ? options.Strength : null);
        var spec = bundle.Denoiser(denoiser);
        bool trainable = spec.FinetunePattern is not null
            && OnnxModel.Load(bundle.PathOf(spec.File)).Graph.Initializer.Any(t => Regex.IsMatch(t.Name, spec.FinetunePattern));
        if ((options.Finetune || options.Method == DistillMethod.Minimax) && !trainable)
            throw UserInputException.ForOption(DistillOptions.OptionName(options.Finetune ? nameof(DistillOptions.Finetune) : nameof(DistillOptions.Method)),
                $"{(options.Finetune ? "" : "minimax ")}needs trainable denoiser weights, but denoiser '{denoiser}' of bundle '{options.Bundle}' declares " +
                $"{(spec.FinetunePattern is null ? "no finetune pattern" : $"a finetune pattern '{spec.FinetunePattern}' that matches none of its weights")}.");
        return denoiser;
    }

    /// <summary>d4m samples with the text UNet, dit, mgd3 and minimax with the class DiT.</summary>
    static string RequireDenoiser(DistillOptions options, ModelBundle bundle)
    {
        string kind = options.Method == DistillMethod.D4m ? DenoiserSpec.UNetText : DenoiserSpec.DitClass;
        var match = bundle.Manifest.Denoisers.FirstOrDefault(kv => kv.Value.Kind == kind);
        if (match.Key is null)
            throw new UserInputException($"Method '{MethodName(options)}' needs a {kind} denoiser, but bundle '{options.Bundle}' has only: " +
                $"{string.Join(", ", bundle.Manifest.Denoisers.Select(kv => $"{kv.Key} ({kv.Value.Kind})"))}.");
        if (options.Method == DistillMethod.D4m && bundle.Manifest.TextEncoder is null)
            throw new UserInputException($"Method 'd4m' needs a text encoder, but bundle '{options.Bundle}' has none.");
        return match.Key;
    }

    static void RequireTextEncoder(DistillOptions options, ModelBundle bundle)
    {
        if (bundle.Manifest.TextEncoder is null)
            throw new UserInputException($"EVLF's fusion module needs the bundle's text encoder, but bundle '{options.Bundle}' has none " +
                "(distil without EVLF instead).");
    }

    static void CheckBundleFits(DistillOptions options, ModelBundle bundle, ImageDataset dataset)
    {
        var m = bundle.Manifest;
        if (m.Classes.Count != dataset.ClassNames.Count || !m.Classes.SequenceEqual(dataset.ClassNames))
            throw new UserInputException($"Bundle '{options.Bundle}' knows classes [{string.Join(", ", m.Classes)}] but dataset '{options.Data}' has " +
                $"[{string.Join(", ", dataset.ClassNames)}]; expected the same classes in the same order.");
        if (m.Image.Channels != dataset.Channels)
            throw new UserInputException($"Bundle '{options.Bundle}' works on {m.Image.Channels}-channel images " +
                $"but dataset '{options.Data}' has {dataset.Channels} channels.");
    }
}
