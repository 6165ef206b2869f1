using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// ResNet-d of IDC (models/resnet.py, after torchvision) with BasicBlocks: stem by input size as IDC picks
/// it — above 128 pixels conv 7×7 stride 2 pad 3, norm, ReLU, MaxPool 3/2 (pad 1); 65–128 conv 3×3, norm,
/// ReLU, MaxPool 3/2; up to 64 conv 3×3, norm, ReLU — then stages [2, 2, 2, 2] (depth 18) or [1, 1, 1, 1]
/// (depth 10) of 64/128/256/512 channels with strided 3×3 convs and conv 1×1 (strided) + norm shortcuts;
/// global average pooling; Linear. Conv weights N(0, √(2/(k²·C_out))) (<see cref="ClassifierInit.HeFanOut"/>).
/// </summary>
public sealed class ResNet(int channels, int imageSize, int classes, int depth = 18, ClassifierNorm norm = ClassifierNorm.Instance)
    : ResidualNetwork($"ResNet{depth}", Blocks(depth, nameof(ResNet)),
        Stem(imageSize > 128 ? nn.Conv2d(channels, 64, 7, stride: 2, padding: 3, bias: norm.ConvBias()) : nn.Conv2d(channels, 64, 3, padding: 1, bias: norm.ConvBias()),
            norm, imageSize > 64 ? nn.MaxPool2d(3, 2, 1) : null),
        classes, norm, ResidualDownsampling.StridedConv);
