using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>How a residual network halves the resolution at the first block of a stage.</summary>
public enum ResidualDownsampling
{
    /// <summary>torchvision's ResNet (IDC models/resnet.py): the block's first 3×3 conv and its 1×1 shortcut conv have stride 2.</summary>
    StridedConv,

    /// <summary>IDC's ResNetAP (models/resnet_ap.py): stride-1 convolutions, then 2×2 average pooling after the block's first conv and in the shortcut.</summary>
    AveragePool,
}

/// <summary>
/// The BasicBlock both ResNets stack: conv 3×3, norm, ReLU, [AvgPool], conv 3×3, norm, + shortcut, ReLU, where the
/// shortcut of a block that changes resolution or width is conv 1×1, [AvgPool], norm (<see cref="ResidualDownsampling"/>
/// says where the stride goes). Sub-modules are named as in IDC's models (conv1, bn1, conv2, bn2, downsample.conv/pool/norm),
/// so the weights of both networks keep their names and their order.
/// </summary>
internal sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    // Declaration order is registration order, which fixes the order ClassifierInit draws the initial weights in.
    private readonly Conv2d conv1, conv2;
    private readonly nn.Module<Tensor, Tensor> bn1, bn2;
    private readonly Sequential? downsample;
    private readonly int pool;

    public ResidualBlock(long inPlanes, long planes, int stride, ClassifierNorm norm, ResidualDownsampling downsampling)
        : base(downsampling == ResidualDownsampling.AveragePool ? "BasicBlockAP" : "BasicBlock")
    {
        bool bias = norm.ConvBias();
        bool pooled = downsampling == ResidualDownsampling.AveragePool;
        int convStride = pooled ? 1 : stride;
        pool = pooled ? stride : 1;
        conv1 = nn.Conv2d(inPlanes, planes, 3, stride: convStride, padding: 1, bias: bias);
        bn1 = norm.Create(planes);
        conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: bias);
        bn2 = norm.Create(planes);
        if (stride != 1 || inPlanes != planes)
        {
            var shortcut = new List<(string, nn.Module<Tensor, Tensor>)> { ("conv", nn.Conv2d(inPlanes, planes, 1, stride: convStride, bias: bias)) };
            if (pooled) shortcut.Add(("pool", nn.AvgPool2d(stride, stride)));
            shortcut.Add(("norm", norm.Create(planes)));
            downsample = nn.Sequential(shortcut);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var o = nn.functional.relu(bn1.call(conv1.call(x)));
        if (pool != 1) o = nn.functional.avg_pool2d(o, pool, pool);
        o = bn2.call(conv2.call(o));
        var residual = downsample is null ? x : downsample.call(x);
        return nn.functional.relu(o.add_(residual)).MoveToOuterDisposeScope();
    }
}
