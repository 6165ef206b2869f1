using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Classifiers;

/// <summary>
/// Initial weights of the evaluation classifiers, drawn from an explicit generator so that a seed fixes them
/// (TorchSharp's constructors draw from the process-wide generator, which concurrent work would disturb).
/// </summary>
public static class ClassifierInit
{
    /// <summary>
    /// PyTorch's defaults, which DC/DSA's and IDC's ConvNet keep: Conv2d and Linear weights and biases
    /// U(±1/√fan_in) (kaiming_uniform with a = √5), normalisation weights 1 and biases 0.
    /// </summary>
    public static void TorchDefault(nn.Module module, Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    Uniform(conv.weight!, conv.bias, FanIn(conv.weight!), generator);
                    break;
                case Linear linear:
                    Uniform(linear.weight!, linear.bias, FanIn(linear.weight!), generator);
                    break;
                case GroupNorm or BatchNorm2d:
                    ResetNorm(m);
                    break;
            }
        }
    }

    /// <summary>
    /// The ResNets' rule (IDC models/resnet.py, resnet_ap.py, after torchvision): every conv weight
    /// N(0, √(2/(k²·C_out))), normalisation weights 1 and biases 0; Linear layers and conv biases keep
    /// PyTorch's default U(±1/√fan_in).
    /// </summary>
    public static void HeFanOut(nn.Module module, Generator generator)
    {
        using var _ = no_grad();
        TorchDefault(module, generator);
        foreach (var (_, m) in module.named_modules())
        {
            if (m is not Conv2d conv) continue;
            var w = conv.weight!;
            double n = w.shape[2] * w.shape[3] * w.shape[0];
            w.normal_(0, Math.Sqrt(2.0 / n), generator);
        }
    }

    static long FanIn(Tensor weight) => weight.shape.Skip(1).Aggregate(1L, (a, d) => a * d);

    static void Uniform(Tensor weight, Tensor? bias, long fanIn, Generator generator)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        weight.uniform_(-bound, bound, generator);
        bias?.uniform_(-bound, bound, generator);
    }

    static void ResetNorm(nn.Module m)
    {
        foreach (var (name, p) in m.named_parameters(recurse: false))
        {
            if (name == "weight") p.fill_(1);
            else if (name == "bias") p.zero_();
        }
    }
}
