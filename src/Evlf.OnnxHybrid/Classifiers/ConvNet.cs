using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// ConvNet-d of DC/DSA (Zhao et al.) and IDC: <c>depth</c> × [conv 3×3 (width, bias), norm, ReLU, AvgPool 2],
/// flatten, Linear. As in DC's networks.py, a single-channel input gets padding 3 on the first conv, so a
/// 28×28 Fashion-MNIST image yields 32×32 feature maps (then 16, 8, 4); every other conv pads 1. The
/// flattened feature size follows from the actual input size. Weights: PyTorch's defaults
/// (<see cref="ClassifierInit.TorchDefault"/>), as both anchors use.
/// </summary>
public sealed class ConvNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear classifier;

    public ConvNet(int channels, int height, int width, int classes, int depth = 3, int netWidth = 128, ClassifierNorm norm = ClassifierNorm.Instance)
        : base($"ConvNet{depth}")
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "ConvNet needs at least one block.");
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long c = channels, h = height, w = width;
        for (int d = 0; d < depth; d++)
        {
            int padding = channels == 1 && d == 0 ? 3 : 1;
            layers.Add(($"conv{d}", nn.Conv2d(c, netWidth, 3, padding: padding)));
            if (norm != ClassifierNorm.None) layers.Add(($"norm{d}", norm.Create(netWidth)));
            layers.Add(($"relu{d}", nn.ReLU(inplace: true)));
            layers.Add(($"pool{d}", nn.AvgPool2d(2, 2)));
            c = netWidth;
            h = (h + 2 * padding - 2) / 2;
            w = (w + 2 * padding - 2) / 2;
            if (h < 1 || w < 1)
                throw new ArgumentException($"A {height}x{width} input is too small for ConvNet depth {depth}: block {d} leaves no pixels.");
        }
        FeatureShape = [c, h, w];
        features = nn.Sequential(layers);
        classifier = nn.Linear(c * h * w, classes);
        RegisterComponents();
    }

    /// <summary>Shape (C, H, W) of the last block's output, flattened before the classifier (128×4×4 for ConvNet-3 on 28×28).</summary>
    public long[] FeatureShape { get; }

    /// <summary>Length of <see cref="Embed"/>'s vectors.</summary>
    public long FeatureCount => FeatureShape.Aggregate(1L, (a, b) => a * b);

    public override Tensor forward(Tensor x)
    {
        using var f = Embed(x);
        return classifier.call(f);
    }

    /// <summary>The class scores of features from <see cref="Embed"/>.</summary>
    public Tensor Classify(Tensor features) => classifier.call(features);

    /// <summary>The flattened features the classifier reads (the penultimate representation).</summary>
    public Tensor Embed(Tensor x)
    {
        using var f = features.call(x);
        return f.flatten(1);
    }
}
