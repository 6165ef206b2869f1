using Microsoft.Extensions.Logging;
namespace Evlf.OnnxHybrid.Data;

/// <summary>The kinds of dataset a <see cref="DataSpec"/> can name.</summary>
public enum DataSpecKind
{
    FashionMnist,
    Idx,
    Cifar10,
    Cifar100,
    Folder,
    ImageNet,
}

/// <summary>
/// A dataset named on the command line (DESIGN §6): <c>fashion-mnist</c>, <c>idx:DIR</c>, <c>cifar10:DIR</c>,
/// <c>cifar100:DIR</c>, <c>folder:DIR</c> or <c>imagenet:DIR:nette|woof|idc</c>. A <c>folder:DIR</c> that holds
/// a synthetic set (manifest.json + images/) opens as that set.
/// </summary>
public sealed record DataSpec(DataSpecKind Kind, string? Directory = null, string? Subset = null)
{
    /// <summary>The accepted forms, for help and error messages.</summary>
    public const string ValidForms = "fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, folder:DIR, imagenet:DIR:nette|woof|idc";

    /// <summary>Parses a spec; throws <see cref="UserInputException"/> listing the valid forms when it is not one.</summary>
    public static DataSpec Parse(string spec)
    {
        var s = (spec ?? "").Trim();
        if (s.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase)) return new DataSpec(DataSpecKind.FashionMnist);

        int colon = s.IndexOf(':');
        if (colon > 0)
        {
            var prefix = s[..colon].ToLowerInvariant();
            var rest = s[(colon + 1)..];
            DataSpecKind? kind = prefix switch
            {
                "idx" => DataSpecKind.Idx,
                "cifar10" => DataSpecKind.Cifar10,
                "cifar100" => DataSpecKind.Cifar100,
                "folder" => DataSpecKind.Folder,
                "imagenet" => DataSpecKind.ImageNet,
                _ => null,
            };
            if (kind == DataSpecKind.ImageNet)
            {
                int last = rest.LastIndexOf(':');
                if (last > 0 && last < rest.Length - 1)
                {
                    var subset = rest[(last + 1)..].ToLowerInvariant();
                    if (!ImageNetSubset.Keys.Contains(subset))
                        throw new UserInputException($"Data spec '{spec}' names ImageNet subset '{subset}'; expected one of {string.Join(", ", ImageNetSubset.Keys)} (imagenet:DIR:nette|woof|idc).");
                    return new DataSpec(DataSpecKind.ImageNet, rest[..last], subset);
                }
                throw new UserInputException($"Data spec '{spec}' lacks a folder or a subset; expected imagenet:DIR:nette|woof|idc.");
            }
            if (kind is { } k)
            {
                if (rest.Length == 0) throw new UserInputException($"Data spec '{spec}' has no folder after '{prefix}:'; expected {prefix}:DIR.");
                return new DataSpec(k, rest);
            }
        }
        throw new UserInputException($"Data spec '{spec}' is not recognised; expected one of: {ValidForms}.");
    }

    /// <summary>
    /// Opens the dataset this spec names; entries its reader passed over (<see cref="ImageDataset.Skipped"/>) are reported
    /// once to <paramref name="logger"/> as one warning.
    /// </summary>
    public ImageDataset Open(DatasetOptions? options = null, ILogger? logger = null)
    {
        var opened = OpenDataset(options);
        var dataset = new ImageDataset(opened.Name, opened.ClassNames, opened.Train, opened.Test, opened.Skipped) { Spec = this };
        if (dataset.Skipped.Count > 0) logger?.LogWarning("{Summary}", SkippedEntry.Summary(ToString(), dataset.Skipped));
        return dataset;
    }

    ImageDataset OpenDataset(DatasetOptions? options) => Kind switch
    {
        DataSpecKind.FashionMnist => FashionMnist.Open(options),
        DataSpecKind.Idx => IdxReader.Open(Directory!, options: options),
        DataSpecKind.Cifar10 => CifarReader.OpenCifar10(Directory!, options),
        DataSpecKind.Cifar100 => CifarReader.OpenCifar100(Directory!, options),
        DataSpecKind.Folder => SyntheticSetReader.IsSyntheticSet(Directory!)
            ? SyntheticSetReader.Open(Directory!, options)
            : ImageFolderReader.Open(Directory!, options),
        DataSpecKind.ImageNet => ImageNetSubset.Get(Subset!).Open(Directory!, options),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    /// <summary>Parses and opens in one step.</summary>
    public static ImageDataset Open(string spec, DatasetOptions? options = null, ILogger? logger = null) => Parse(spec).Open(options, logger);

    /// <summary>The canonical spec string.</summary>
    public override string ToString() => Kind switch
    {
        DataSpecKind.FashionMnist => "fashion-mnist",
        DataSpecKind.Idx => $"idx:{Directory}",
        DataSpecKind.Cifar10 => $"cifar10:{Directory}",
        DataSpecKind.Cifar100 => $"cifar100:{Directory}",
        DataSpecKind.Folder => $"folder:{Directory}",
        DataSpecKind.ImageNet => $"imagenet:{Directory}:{Subset}",
        _ => Kind.ToString(),
    };
}
