using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Tests.Evaluation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Classifiers;

public class ClassifierTests
{
    static long Parameters(nn.Module m) => m.parameters().Sum(p => p.numel());

    // Parameter counts by hand: a k×k conv from cin to cout has k·k·cin·cout weights (+ cout biases);
    // an affine GroupNorm/BatchNorm over c channels has 2c; a Linear has in·out + out.
    static long Conv(long k, long cin, long cout, bool bias = false) => k * k * cin * cout + (bias ? cout : 0);
    static long Norm(long c) => 2 * c;
    static long Fc(long fin, long fout) => fin * fout + fout;

    [Fact]
    public void ConvNet3OnFashionMnistHasTheHandCountedParametersAndPadsTo32()
    {
        using var net = (ConvNet)ClassifierArchitecture.ConvNet3.Create(1, 28, 28, 10, seed: 0);
        // 28 + 2·3 − 2 = 32 → pool 16 → 16 → pool 8 → 8 → pool 4: the classifier reads 128·4·4 = 2048 features.
        Assert.Equal(new long[] { 128, 4, 4 }, net.FeatureShape);
        long expected = Conv(3, 1, 128, bias: true) + Norm(128)
                      + Conv(3, 128, 128, bias: true) + Norm(128)
                      + Conv(3, 128, 128, bias: true) + Norm(128)
                      + Fc(2048, 10);
        Assert.Equal(317_706, expected);
        Assert.Equal(expected, Parameters(net));
        using var x = randn(2, 1, 28, 28);
        using var y = net.call(x);
        Assert.Equal(new long[] { 2, 10 }, y.shape);
        using var f = net.Embed(x);
        Assert.Equal(new long[] { 2, 2048 }, f.shape);
    }

    [Fact]
    public void ConvNetVariants()
    {
        // Three channels at 32×32 pad 1 everywhere (DC's CIFAR ConvNet): 32 → 16 → 8 → 4.
        using var rgb = new ConvNet(3, 32, 32, 10);
        Assert.Equal(new long[] { 128, 4, 4 }, rgb.FeatureShape);
        // No norm: no norm parameters; BatchNorm: as many as instance norm.
        using var nn0 = ClassifierArchitecture.Parse("convnet3-nn").Create(1, 28, 28, 10, 0);
        Assert.Equal(317_706 - 3 * Norm(128), Parameters(nn0));
        using var bn = ClassifierArchitecture.Parse("convnet3-bn").Create(1, 28, 28, 10, 0);
        Assert.Equal(317_706, Parameters(bn));
        Assert.Contains(bn.modules(), m => m is BatchNorm2d);
        using var d1 = (ConvNet)ClassifierArchitecture.Parse("ConvNet1").Create(1, 28, 28, 3, 0);
        Assert.Equal(new long[] { 128, 16, 16 }, d1.FeatureShape);
        using var y = d1.call(zeros(1, 1, 28, 28));
        Assert.Equal(new long[] { 1, 3 }, y.shape);
    }

    [Fact]
    public void ResNet18At224MatchesTorchvisionsCount()
    {
        // torchvision resnet18 (3×224×224, 1000 classes) has 11 689 512 parameters; GroupNorm(C, C) has the same
        // affine parameters as BatchNorm.
        using var net = new ResNet(3, 224, 1000, depth: 18);
        Assert.Equal(11_689_512, Parameters(net));
        using var y = net.call(randn(1, 3, 224, 224));
        Assert.Equal(new long[] { 1, 1000 }, y.shape);
    }

    static long BasicBlocks(long stem, int[] blocks)
    {
        long total = stem, inPlanes = 64;
        long[] planes = [64, 128, 256, 512];
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < blocks[s]; b++)
            {
                total += Conv(3, inPlanes, planes[s]) + Norm(planes[s]) + Conv(3, planes[s], planes[s]) + Norm(planes[s]);
                if (inPlanes != planes[s]) total += Conv(1, inPlanes, planes[s]) + Norm(planes[s]);
                inPlanes = planes[s];
            }
        return total;
    }

    [Fact]
    public void ResNetAP10AndResNet18OnFashionMnist()
    {
        using var ap = ClassifierArchitecture.Parse("resnetap10").Create(1, 28, 28, 10, 0);
        long small = Conv(3, 1, 64) + Norm(64);
        Assert.Equal(BasicBlocks(small, [1, 1, 1, 1]) + Fc(512, 10), Parameters(ap));
        Assert.Equal(4_902_090, Parameters(ap));
        using var r18 = ClassifierArchitecture.Parse("resnet18").Create(1, 28, 28, 10, 0);
        Assert.Equal(BasicBlocks(small, [2, 2, 2, 2]) + Fc(512, 10), Parameters(r18));
        using var x = randn(2, 1, 28, 28);
        using var a = ap.call(x);
        using var b = r18.call(x);
        Assert.Equal(new long[] { 2, 10 }, a.shape);
        Assert.Equal(new long[] { 2, 10 }, b.shape);
    }

    [Fact]
    public void ResNetAP10At224UsesTheLargeStem()
    {
        // IDC's ImageNet stem: conv 7×7 (3→64, no bias), norm, ReLU, AvgPool 4 → 56×56 into the stages.
        using var net = new ResNetAP(3, 224, 10, depth: 10);
        Assert.Equal(BasicBlocks(Conv(7, 3, 64) + Norm(64), [1, 1, 1, 1]) + Fc(512, 10), Parameters(net));
        using var y = net.call(randn(1, 3, 224, 224));
        Assert.Equal(new long[] { 1, 10 }, y.shape);
    }

    [Fact]
    public void BothResNetsStackTheOneResidualBlockWithIdcsNamesAndTheirOwnDownsampling()
    {
        using var resnet = new ResNet(1, 28, 10, depth: 18);
        using var ap = new ResNetAP(1, 28, 10, depth: 10);
        var names = ap.named_parameters().Select(p => p.name).ToList();
        // The weights keep IDC's names (and so their order, which fixes the initial weights a seed draws).
        Assert.Equal(["stem.conv.weight", "stem.norm.weight", "stem.norm.bias",
                      "stages.layer1_0.conv1.weight", "stages.layer1_0.conv2.weight", "stages.layer1_0.bn1.weight", "stages.layer1_0.bn1.bias", "stages.layer1_0.bn2.weight", "stages.layer1_0.bn2.bias",
                      "stages.layer2_0.conv1.weight"], names.Take(10));
        Assert.Contains("stages.layer2_0.downsample.norm.bias", names);
        Assert.Equal(["fc.weight", "fc.bias"], names.TakeLast(2));
        Assert.Equal(names.Where(n => n.StartsWith("stages.layer1_0", StringComparison.Ordinal)),
                     resnet.named_parameters().Select(p => p.name).Where(n => n.StartsWith("stages.layer1_0", StringComparison.Ordinal)));

        // ResNet strides its convolutions; ResNetAP keeps them at stride 1 and average-pools, in the block and in the shortcut.
        var modules = ap.named_modules().ToDictionary(m => m.name, m => m.module);
        var strided = resnet.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.Equal(1, ((Conv2d)modules["stages.layer2_0.conv1"]).stride[0]);
        Assert.Equal(2, ((Conv2d)strided["stages.layer2_0.conv1"]).stride[0]);
        Assert.Equal(2, ((Conv2d)strided["stages.layer2_0.downsample.conv"]).stride[0]);
        Assert.Contains("stages.layer2_0.downsample.pool", modules.Keys);
        Assert.DoesNotContain("stages.layer2_0.downsample.pool", strided.Keys);
        using var x = randn(1, 1, 28, 28);
        using var a = ap.call(x);
        using var b = resnet.call(x);
        Assert.Equal(new long[] { 1, 10 }, a.shape);
        Assert.Equal(new long[] { 1, 10 }, b.shape);
    }

    [Fact]
    public void ResNetConvsAreHeFanOutNormalAndConvNetKeepsTorchDefaults()
    {
        using var net = new ResNetAP(1, 28, 10, depth: 10);
        using (var g = new Generator(3, CPU)) ClassifierInit.HeFanOut(net, g);
        var convs = net.modules().OfType<Conv2d>().ToList();
        var big = convs.Single(c => c.in_channels == 256 && c.out_channels == 512 && c.kernel_size[0] == 3);
        double expectedStd = Math.Sqrt(2.0 / (9 * 512));
        Assert.InRange(big.weight!.std().item<float>(), 0.98 * expectedStd, 1.02 * expectedStd);
        Assert.InRange(big.weight!.mean().item<float>(), -0.02 * expectedStd, 0.02 * expectedStd);
        foreach (var gn in net.modules().OfType<GroupNorm>())
        {
            Assert.Equal(1f, gn.weight!.min().item<float>());
            Assert.Equal(0f, gn.bias!.abs().max().item<float>());
        }

        using var convNet = (ConvNet)ClassifierArchitecture.ConvNet3.Create(1, 28, 28, 10, seed: 3);
        var conv2 = convNet.modules().OfType<Conv2d>().ElementAt(1); // 128 → 128, fan_in 128·9
        double bound = 1 / Math.Sqrt(128 * 9);
        Assert.InRange(conv2.weight!.abs().max().item<float>(), 0.99 * bound, bound);
        Assert.InRange(conv2.bias!.abs().max().item<float>(), 0.9 * bound, bound);
        // U(−b, b) has std b/√3.
        Assert.InRange(conv2.weight!.std().item<float>(), 0.98 * bound / Math.Sqrt(3), 1.02 * bound / Math.Sqrt(3));
    }

    [Fact]
    public void TheSeedFixesTheInitialWeights()
    {
        using var a = ClassifierArchitecture.ConvNet3.Create(1, 28, 28, 10, seed: 5);
        using var b = ClassifierArchitecture.ConvNet3.Create(1, 28, 28, 10, seed: 5);
        using var c = ClassifierArchitecture.ConvNet3.Create(1, 28, 28, 10, seed: 6);
        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        var pc = c.parameters().ToList();
        for (int i = 0; i < pa.Count; i++) Assert.True(pa[i].Same(pb[i]));
        Assert.False(pa[0].Same(pc[0]));
    }

    [Theory]
    [InlineData("convnet3", "convnet3")]
    [InlineData("ConvNet-6", "convnet6")]
    [InlineData("convnet3-bn", "convnet3-bn")]
    [InlineData("resnetap10", "resnetap10")]
    [InlineData("resnet18-nn", "resnet18-nn")]
    public void NamesParse(string name, string canonical) => Assert.Equal(canonical, ClassifierArchitecture.Parse(name).Name);

    [Theory]
    [InlineData("vgg11")]
    [InlineData("convnet0")]
    [InlineData("resnet50")]
    [InlineData("")]
    public void UnknownNamesAreUserErrors(string name)
    {
        var e = Assert.Throws<UserInputException>(() => ClassifierArchitecture.Parse(name));
        Assert.Contains("convnet", e.Message);
    }
}
