using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// ResNetAP-d of IDC (models/resnet_ap.py): a ResNet whose strided convolutions are replaced by stride-1
/// convolutions followed by 2×2 average pooling. Stem by input size, as IDC picks it: above 128 pixels
/// conv 7×7 (pad 3, stride 1), norm, ReLU, AvgPool 4; 65–128 conv 3×3, norm, ReLU, AvgPool 2; up to 64
/// conv 3×3, norm, ReLU. Four stages of BasicBlocks (64/128/256/512 channels; depth 10 → 1 block each,
/// 18 → 2); a strided block pools after its first conv and its shortcut is conv 1×1, AvgPool 2, norm. Global
/// average pooling, Linear. Conv weights N(0, √(2/(k²·C_out))) (<see cref="ClassifierInit.HeFanOut"/>).
/// </summary>
public sealed class ResNetAP(int channels, int imageSize, int classes, int depth = 10, ClassifierNorm norm = ClassifierNorm.Instance)
    : ResidualNetwork($"ResNetAP{depth}", Blocks(depth, nameof(ResNetAP)),
        Stem(imageSize > 128 ? nn.Conv2d(channels, 64, 7, padding: 3, bias: norm.ConvBias()) : nn.Conv2d(channels, 64, 3, padding: 1, bias: norm.ConvBias()),
            norm, imageSize > 128 ? nn.AvgPool2d(4, 4) : imageSize > 64 ? nn.AvgPool2d(2, 2) : null),
        classes, norm, ResidualDownsampling.AveragePool);
