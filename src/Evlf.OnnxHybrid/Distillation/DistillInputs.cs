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
/// <param name="Options">The run's options; when the caller passed the data or the bundle opened, <see cref="DistillOptions.Data"/>
/// holds the dataset's spec ("" for one built in memory) and <see cref="DistillOptions.Bundle"/> the bundle's folder.</param>
/// <param name="Dataset">The data, cut to <see cref="DistillOptions.MaxTrain"/> images per split.</param>
/// <param name="Bundle">The bundle of a generative run (null for random and herding).</param>
/// <param name="Denoiser">The bundle's denoiser the method samples with (null for random, herding and train-fusion).</param>
internal sealed record DistillInputs(DistillOptions Options, ImageDataset Dataset, ModelBundle? Bundle, string? Denoiser)
{
    /// <summary>`evlf distill`'s inputs: <paramref name="dataset"/> and <paramref name="bundle"/> when given, else those the options name.</summary>
    public static DistillInputs ForDistill(DistillOptions options, ILogger logger, ImageDataset? dataset = null, ModelBundle? bundle = null)
    {
        options.Validate();
        options = Naming(options, dataset, bundle);
        bool readsBundle = options.UsesGenerativeModel || options.ThroughVae;
        if (readsBundle) OnnxSession.RequireDevice(options.Device, DistillOptions.OptionName(nameof(DistillOptions.Device)));
        // Generative methods read the data with the bundle's channel count (a grayscale bundle sees folders as gray).
        bundle = readsBundle ? bundle ?? ModelBundle.Load(options.Bundle) : null;
        RequireApart(options, bundle);
        dataset = OpenData(options, dataset, bundle is null ? null : new DatasetOptions(Channels: bundle.Manifest.Image.Channels), logger);
        var perClass = dataset.Train.CountPerClass(dataset.ClassNames.Count);
        int smallest = perClass.Min();
        string smallestClass = dataset.ClassNames[Array.IndexOf(perClass, smallest)];
        if (options.Ipc > smallest)
            throw UserInputException.ForOption(DistillOptions.OptionName(nameof(DistillOptions.Ipc)),
                $"{options.Ipc} is larger than class '{smallestClass}', which has {smallest} training images.");
        if (options.Ipc * options.StartsPerMode > smallest)
            throw UserInputException.ForOption(DistillOptions.OptionName(nameof(DistillOptions.Candidates)),
                $"{options.Candidates} with start real-neighbours needs {options.Ipc} × {options.Candidates} distinct training images per class, but class '{smallestClass}' has {smallest}.");
        if (options.ThroughVae) CheckBundleFits(options, bundle!, dataset);
        return new DistillInputs(options, dataset, bundle, options.UsesGenerativeModel ? CheckGenerative(options, bundle!, dataset) : null);
    }

    /// <summary>`evlf train-fusion`'s inputs: a bundle with a text encoder, and data enough for one optimizer step.</summary>
    public static DistillInputs ForFusionModule(DistillOptions options, ILogger logger, ImageDataset? dataset = null, ModelBundle? bundle = null)
    {
        options.Validate();
        options = Naming(options, dataset, bundle);
        OnnxSession.RequireDevice(options.Device, DistillOptions.OptionName(nameof(DistillOptions.Device)));
        // It trains: cuda that libtorch cannot give is refused before any work.
        ComputeDevice.RequireAvailable(options.Device, DistillOptions.OptionName(nameof(DistillOptions.Device)));
        bundle ??= ModelBundle.Load(options.Bundle);
        RequireTextEncoder(options, bundle);
        RequireApart(options, bundle);
        dataset = OpenData(options, dataset, new DatasetOptions(Channels: bundle.Manifest.Image.Channels), logger);
        CheckBundleFits(options, bundle, dataset);
        FusionTrainer.RequireOptimizerSteps(dataset.Train.Count, options.FusionTraining);
        return new DistillInputs(options, dataset, bundle, null);
    }

    /// <summary>
    /// The options naming what the caller passed opened, so that messages, the manifest and the checks speak of it: the
    /// dataset's spec ("" for one built in memory) and the bundle's folder.
    /// </summary>
    static DistillOptions Naming(DistillOptions options, ImageDataset? dataset, ModelBundle? bundle) => options with
    {
        Data = dataset is null ? options.Data : dataset.Spec?.ToString() ?? "",
        Bundle = bundle is null ? options.Bundle : bundle.Directory,
    };

    /// <summary>The data as messages name it: its spec, or the name of a dataset built in memory.</summary>
    static string DataName(DistillOptions options, ImageDataset dataset) =>
        options.Data.Length > 0 ? options.Data : $"{dataset.Name} (in memory)";

    /// <summary>The method as the user writes it.</summary>
    public static string MethodName(DistillOptions options) => options.Method.ToString().ToLowerInvariant();

    /// <summary>
    /// <paramref name="given"/>, or the data of <see cref="DistillOptions.Data"/>, cut to <see cref="DistillOptions.MaxTrain"/>
    /// images per split.
    /// </summary>
    static ImageDataset OpenData(DistillOptions options, ImageDataset? given, DatasetOptions? datasetOptions, ILogger logger)
    {
        var dataset = given ?? DataSpec.Open(options.Data, datasetOptions, logger);
        if (options.MaxTrain is not int max) return dataset;
        DatasetSplit First(DatasetSplit split) => split.Count <= max ? split : split.Subset(Enumerable.Range(0, max).ToArray());
        return dataset.WithSplits(First(dataset.Train), First(dataset.Test));
    }

    /// <summary>The run's outputs (Out, Cache) apart from its inputs (Data, Bundle), before anything is written.</summary>
    static void RequireApart(DistillOptions options, ModelBundle? bundle)
    {
        // A dataset built in memory has no folder to keep apart.
        static string Name(string property) => DistillOptions.OptionName(property);
        var inputs = new List<PathsApart.Named> { new(Name(nameof(DistillOptions.Data)), options.Data.Length > 0 ? PathsApart.DataFolder(options.Data) : null) };
        if (bundle is not null) inputs.Add(new(Name(nameof(DistillOptions.Bundle)), bundle.Directory));
        PathsApart.Require([new(Name(nameof(DistillOptions.Out)), options.Out), new(Name(nameof(DistillOptions.Cache)), options.Cache)], inputs);
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
            throw new UserInputException($"Bundle '{options.Bundle}' knows classes [{string.Join(", ", m.Classes)}] but dataset '{DataName(options, dataset)}' has " +
                $"[{string.Join(", ", dataset.ClassNames)}]; expected the same classes in the same order.");
        if (m.Image.Channels != dataset.Channels)
            throw new UserInputException($"Bundle '{options.Bundle}' works on {m.Image.Channels}-channel images " +
                $"but dataset '{DataName(options, dataset)}' has {dataset.Channels} channels.");
    }
}
