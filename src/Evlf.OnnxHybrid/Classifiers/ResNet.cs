using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// ResNet-d of IDC (models/resnet.py, after torchvision) with BasicBlocks: stem by input size as IDC picks
/// it — above 128 pixels conv 7×7 stride 2 pad 3, norm, ReLU, MaxPool 3/2 (pad 1); 65–128 conv 3×3, norm,
/// ReLU, MaxPool 3/2; up to 64 conv 3×3, norm, ReLU — then stages [2, 2, 2, 2] (depth 18) or [1, 1, 1, 1]
/// (depth 10) of 64/128/256/512 channels with strided 3×3 convs and conv 1×1 (strided) + norm shortcuts;
/// global average pooling; Linear. Conv weights N(0, √(2/(k²·C_out))) (<see cref="ClassifierInit.HeFanOut"/>).
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential stem;
    private readonly Sequential stages;
    private readonly Linear fc;

    public ResNet(int channels, int imageSize, int classes, int depth = 18, ClassifierNorm norm = ClassifierNorm.Instance)
        : base($"ResNet{depth}")
    {
        int[] blocks = ResidualStages.Blocks(depth, nameof(ResNet));
        bool bias = norm.ConvBias();
        var stemLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        stemLayers.Add(("conv", imageSize > 128
            ? nn.Conv2d(channels, 64, 7, stride: 2, padding: 3, bias: bias)
            : nn.Conv2d(channels, 64, 3, padding: 1, bias: bias)));
        stemLayers.Add(("norm", norm.Create(64)));
        stemLayers.Add(("relu", nn.ReLU(inplace: true)));
        if (imageSize > 64) stemLayers.Add(("pool", nn.MaxPool2d(3, 2, 1)));
        stem = nn.Sequential(stemLayers);

        (stages, long features) = ResidualStages.Create(blocks, norm, ResidualDownsampling.StridedConv);
        fc = nn.Linear(features, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var s = stem.call(x);
        using var f = stages.call(s);
        using var pooled = f.mean([2, 3]);
        return fc.call(pooled);
    }
}
