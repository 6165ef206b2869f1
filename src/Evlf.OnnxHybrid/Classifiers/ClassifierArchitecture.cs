using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// A named evaluation classifier, as evaluation names it: <c>convnet&lt;d&gt;</c> (ConvNet-d,
/// width 128; <c>convnet3</c> is the DC/DSA protocol's network), <c>resnetap10</c>, <c>resnet18</c> — each with
/// instance norm unless suffixed <c>-bn</c> (BatchNorm) or <c>-nn</c> (no norm). Builds a freshly initialised
/// network from a seed.
/// </summary>
public sealed partial record ClassifierArchitecture(ClassifierFamily Family, int Depth, ClassifierNorm Norm, int Width = 128)
{
    /// <summary>The forms <see cref="Parse"/> accepts, for help and error messages.</summary>
    public const string ValidNames = "convnet<d> (d = 1..8, e.g. convnet3), resnetap10, resnet18; optional suffix -bn (BatchNorm) or -nn (no norm)";

    /// <summary>The DC/DSA protocol's classifier: ConvNet-3, width 128, instance norm.</summary>
    public static ClassifierArchitecture ConvNet3 { get; } = new(ClassifierFamily.ConvNet, 3, ClassifierNorm.Instance);

    /// <summary>IDC's default classifier.</summary>
    public static ClassifierArchitecture ResNetAP10 { get; } = new(ClassifierFamily.ResNetAP, 10, ClassifierNorm.Instance);

    public static ClassifierArchitecture ResNet18 { get; } = new(ClassifierFamily.ResNet, 18, ClassifierNorm.Instance);

    /// <summary>The canonical name, e.g. "convnet3", "resnetap10-bn".</summary>
    public string Name => Family switch
    {
        ClassifierFamily.ConvNet => $"convnet{Depth}",
        ClassifierFamily.ResNetAP => $"resnetap{Depth}",
        _ => $"resnet{Depth}",
    } + Norm switch { ClassifierNorm.Batch => "-bn", ClassifierNorm.None => "-nn", _ => "" };

    /// <summary>Parses a name (case-insensitive); throws <see cref="UserInputException"/> for anything else.</summary>
    public static ClassifierArchitecture Parse(string name)
    {
        var m = NamePattern().Match((name ?? "").Trim().ToLowerInvariant());
        if (m.Success)
        {
            var norm = m.Groups["norm"].Value switch { "-bn" => ClassifierNorm.Batch, "-nn" => ClassifierNorm.None, _ => ClassifierNorm.Instance };
            int depth = int.Parse(m.Groups["depth"].Value, System.Globalization.CultureInfo.InvariantCulture);
            switch (m.Groups["family"].Value)
            {
                case "convnet" when depth is >= 1 and <= 8: return new(ClassifierFamily.ConvNet, depth, norm);
                case "resnetap" when depth == 10: return new(ClassifierFamily.ResNetAP, depth, norm);
                case "resnet" when depth == 18: return new(ClassifierFamily.ResNet, depth, norm);
            }
        }
        throw new UserInputException($"Model '{name}' is not a known classifier; expected {ValidNames}.");
    }

    /// <summary>
    /// A new network for images of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>
    /// and <paramref name="classes"/> classes, initialised from <paramref name="seed"/> by the anchors' rule.
    /// </summary>
    public nn.Module<Tensor, Tensor> Create(int channels, int height, int width, int classes, long seed)
    {
        nn.Module<Tensor, Tensor> net = Family switch
        {
            ClassifierFamily.ConvNet => new ConvNet(channels, height, width, classes, Depth, Width, Norm),
            ClassifierFamily.ResNetAP => new ResNetAP(channels, Math.Max(height, width), classes, Depth, Norm),
            _ => new ResNet(channels, Math.Max(height, width), classes, Depth, Norm),
        };
        using var generator = new Generator((ulong)seed, CPU);
        if (Family == ClassifierFamily.ConvNet) ClassifierInit.TorchDefault(net, generator);
        else ClassifierInit.HeFanOut(net, generator);
        return net;
    }

    public override string ToString() => Name;

    [GeneratedRegex(@"^(?<family>convnet|resnetap|resnet)-?(?<depth>\d+)(?<norm>-bn|-nn|-in)?$")]
    private static partial Regex NamePattern();
}

/// <summary>The network families of <see cref="ClassifierArchitecture"/>.</summary>
public enum ClassifierFamily
{
    ConvNet,
    ResNetAP,
    ResNet,
}
