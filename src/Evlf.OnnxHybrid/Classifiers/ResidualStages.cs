using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// The four stages of <see cref="ResidualBlock"/>s that <see cref="ResNet"/> and <see cref="ResNetAP"/> share: 64, 128,
/// 256 and 512 channels, one block each for depth 10 and two for depth 18 (IDC's presets), the first block of stages
/// 2–4 halving the resolution. Blocks are named layer{stage}_{block}.
/// </summary>
internal static class ResidualStages
{
    static readonly int[] Planes = [64, 128, 256, 512];

    /// <summary>Blocks per stage for <paramref name="depth"/>; throws for depths other than 10 and 18, naming <paramref name="network"/>.</summary>
    public static int[] Blocks(int depth, string network) => depth switch
    {
        10 => [1, 1, 1, 1],
        18 => [2, 2, 2, 2],
        _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, $"{network} depth must be 10 or 18."),
    };

    /// <summary>The stages after a 64-channel stem, and the channels of their output (the classifier's input features).</summary>
    public static (Sequential Stages, long Features) Create(int[] blocks, ClassifierNorm norm, ResidualDownsampling downsampling)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long inPlanes = 64;
        for (int s = 0; s < Planes.Length; s++)
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                layers.Add(($"layer{s + 1}_{b}", new ResidualBlock(inPlanes, Planes[s], stride, norm, downsampling)));
                inPlanes = Planes[s];
            }
        return (nn.Sequential(layers), inPlanes);
    }
}
