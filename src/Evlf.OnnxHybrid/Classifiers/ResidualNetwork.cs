using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// What <see cref="ResNet"/> and <see cref="ResNetAP"/> share: after their own stem (64 channels), four stages of
/// <see cref="ResidualBlock"/>s of 64, 128, 256 and 512 channels — one block each for depth 10, two for depth 18 (IDC's
/// presets), the first block of stages 2–4 halving the resolution, named layer{stage}_{block} — then global average
/// pooling and a Linear classifier.
/// </summary>
public abstract class ResidualNetwork : nn.Module<Tensor, Tensor>
{
    static readonly int[] Planes = [64, 128, 256, 512];

    private readonly Sequential stem;
    private readonly Sequential stages;
    private readonly Linear fc;

    private protected ResidualNetwork(string name, int[] blocks, Sequential stem, int classes, ClassifierNorm norm, ResidualDownsampling downsampling)
        : base(name)
    {
        this.stem = stem;
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long inPlanes = 64;
        for (int s = 0; s < Planes.Length; s++)
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                layers.Add(($"layer{s + 1}_{b}", new ResidualBlock(inPlanes, Planes[s], stride, norm, downsampling)));
                inPlanes = Planes[s];
            }
        stages = nn.Sequential(layers);
        fc = nn.Linear(inPlanes, classes);
        // Registered by hand: RegisterComponents reflects over the derived type, which does not see these private fields.
        register_module(nameof(stem), stem);
        register_module(nameof(stages), stages);
        register_module(nameof(fc), fc);
    }

    /// <summary>The stem both networks build, of their own first convolution and pooling: conv, norm, ReLU, [pool].</summary>
    private protected static Sequential Stem(nn.Module<Tensor, Tensor> conv, ClassifierNorm norm, nn.Module<Tensor, Tensor>? pool)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("conv", conv), ("norm", norm.Create(64)), ("relu", nn.ReLU(inplace: true)) };
        if (pool is not null) layers.Add(("pool", pool));
        return nn.Sequential(layers);
    }

    /// <summary>Blocks per stage for <paramref name="depth"/>; depths other than 10 and 18 are refused, naming <paramref name="network"/>.</summary>
    private protected static int[] Blocks(int depth, string network) => depth switch
    {
        10 => [1, 1, 1, 1],
        18 => [2, 2, 2, 2],
        _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, $"{network} depth must be 10 or 18."),
    };

    public override Tensor forward(Tensor x)
    {
        using var s = stem.call(x);
        using var f = stages.call(s);
        using var pooled = f.mean([2, 3]);
        return fc.call(pooled);
    }
}
