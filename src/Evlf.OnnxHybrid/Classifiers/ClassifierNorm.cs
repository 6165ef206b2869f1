using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// The normalisation layer of a classifier, as the anchors name it: <c>instance</c> is GroupNorm(C, C) with
/// an affine transform (DC/DSA and IDC call it instance norm), <c>batch</c> is BatchNorm2d(C), <c>none</c> is
/// no layer (convolutions then carry a bias).
/// </summary>
public enum ClassifierNorm
{
    Instance,
    Batch,
    None,
}

internal static class ClassifierNormLayers
{
    /// <summary>The layer for <paramref name="channels"/> channels; Identity for <see cref="ClassifierNorm.None"/>.</summary>
    public static nn.Module<Tensor, Tensor> Create(this ClassifierNorm norm, long channels) => norm switch
    {
        ClassifierNorm.Instance => nn.GroupNorm(channels, channels, eps: 1e-5, affine: true),
        ClassifierNorm.Batch => nn.BatchNorm2d(channels),
        ClassifierNorm.None => nn.Identity(),
        _ => throw new ArgumentOutOfRangeException(nameof(norm), norm, null),
    };

    /// <summary>IDC's rule: convolutions followed by a normalisation layer have no bias.</summary>
    public static bool ConvBias(this ClassifierNorm norm) => norm == ClassifierNorm.None;

    public static string Key(this ClassifierNorm norm) => norm switch
    {
        ClassifierNorm.Instance => "instance",
        ClassifierNorm.Batch => "batch",
        _ => "none",
    };
}
