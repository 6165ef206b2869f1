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
        int[] blocks = depth switch
        {
            10 => [1, 1, 1, 1],
            18 => [2, 2, 2, 2],
            _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, "ResNet depth must be 10 or 18."),
        };
        bool bias = norm.ConvBias();
        var stemLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        stemLayers.Add(("conv", imageSize > 128
            ? nn.Conv2d(channels, 64, 7, stride: 2, padding: 3, bias: bias)
            : nn.Conv2d(channels, 64, 3, padding: 1, bias: bias)));
        stemLayers.Add(("norm", norm.Create(64)));
        stemLayers.Add(("relu", nn.ReLU(inplace: true)));
        if (imageSize > 64) stemLayers.Add(("pool", nn.MaxPool2d(3, 2, 1)));
        stem = nn.Sequential(stemLayers);

        var stageLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long inPlanes = 64;
        int[] planes = [64, 128, 256, 512];
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                stageLayers.Add(($"layer{s + 1}_{b}", new Block(inPlanes, planes[s], stride, norm)));
                inPlanes = planes[s];
            }
        stages = nn.Sequential(stageLayers);
        fc = nn.Linear(inPlanes, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var s = stem.call(x);
        using var f = stages.call(s);
        using var pooled = f.mean([2, 3]);
        return fc.call(pooled);
    }

    /// <summary>torchvision's BasicBlock: conv 3×3 (stride), norm, ReLU, conv 3×3, norm, + shortcut, ReLU.</summary>
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly nn.Module<Tensor, Tensor> bn1, bn2;
        private readonly Sequential? downsample;

        public Block(long inPlanes, long planes, int stride, ClassifierNorm norm) : base("BasicBlock")
        {
            bool bias = norm.ConvBias();
            conv1 = nn.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: bias);
            bn1 = norm.Create(planes);
            conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: bias);
            bn2 = norm.Create(planes);
            if (stride != 1 || inPlanes != planes)
                downsample = nn.Sequential(
                    ("conv", nn.Conv2d(inPlanes, planes, 1, stride: stride, bias: bias)),
                    ("norm", norm.Create(planes)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var o = nn.functional.relu(bn1.call(conv1.call(x)));
            o = bn2.call(conv2.call(o));
            var residual = downsample is null ? x : downsample.call(x);
            return nn.functional.relu(o.add_(residual)).MoveToOuterDisposeScope();
        }
    }
}
