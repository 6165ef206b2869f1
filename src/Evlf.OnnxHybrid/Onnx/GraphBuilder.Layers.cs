namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Linear and convolutional layers, pooling and resampling, with PyTorch's default initialisation.</summary>
public sealed partial class GraphBuilder
{
    /// <summary>
    /// torch.nn.Linear on the last axis of an input of any rank: MatMul(x, Transpose(W)) + b with
    /// <c>name.weight</c> [out, in] stored PyTorch-style and <c>name.bias</c> [out].
    /// Default init (PyTorch): W ~ kaiming_uniform(a=√5) = U(±1/√in), b ~ U(±1/√in).
    /// </summary>
    public Value Linear(string name, Value x, int inFeatures, int outFeatures, bool bias = true,
        ParameterInit? weightInit = null, ParameterInit? biasInit = null)
    {
        RequireFloat32(x, "Linear");
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear '{QualifiedName(name)}': features must be positive ({inFeatures} → {outFeatures}).");
        var shape = Meta(x).Shape;
        if (shape is not null && (shape.Length == 0 || shape[^1].Size is long n && n != inFeatures))
            throw new ArgumentException($"Linear '{QualifiedName(name)}' expects {inFeatures} input features; '{x.Name}' has shape {Format(shape)}.");
        using (Scope(name))
        {
            var w = Parameter("weight", new long[] { outFeatures, inFeatures }, weightInit ?? ParameterInit.TorchDefaultWeight);
            var y = MatMul(x, Transpose(w, 1, 0));
            if (!bias) return y;
            var b = Parameter("bias", new long[] { outFeatures }, biasInit ?? ParameterInit.Uniform(1 / Math.Sqrt(inFeatures)));
            return Add(y, b);
        }
    }

    /// <summary>
    /// torch.nn.Conv2d on (N, C, H, W): <c>name.weight</c> [out, in/groups, k, k], <c>name.bias</c> [out].
    /// Default init (PyTorch): W ~ U(±1/√fan_in), b ~ U(±1/√fan_in), fan_in = in/groups·k·k.
    /// </summary>
    public Value Conv2d(string name, Value x, int inChannels, int outChannels, int kernelSize, int stride = 1,
        int padding = 0, int dilation = 1, int groups = 1, bool bias = true,
        ParameterInit? weightInit = null, ParameterInit? biasInit = null)
    {
        RequireFloat32(x, "Conv2d");
        string full = QualifiedName(name);
        if (kernelSize <= 0 || stride <= 0 || dilation <= 0 || padding < 0 || groups <= 0)
            throw new ArgumentException($"Conv2d '{full}': kernel {kernelSize}, stride {stride}, dilation {dilation}, groups {groups} must be positive and padding {padding} non-negative.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d '{full}': {inChannels} in and {outChannels} out channels must both be divisible by groups = {groups}.");
        var shape = RequireRank(x, 4, $"Conv2d '{full}'");
        RequireDim(x, 1, inChannels, $"Conv2d '{full}'");
        long fanIn = (long)inChannels / groups * kernelSize * kernelSize;
        using (Scope(name))
        {
            var w = Parameter("weight", new long[] { outChannels, inChannels / groups, kernelSize, kernelSize }, weightInit ?? ParameterInit.TorchDefaultWeight);
            Value? b = bias ? Parameter("bias", new long[] { outChannels }, biasInit ?? ParameterInit.Uniform(1 / Math.Sqrt(fanIn))) : null;
            var outShape = new Dim[]
            {
                shape[0], outChannels,
                WindowOutput(shape[2], kernelSize, stride, padding, padding, dilation, $"Conv2d '{full}'"),
                WindowOutput(shape[3], kernelSize, stride, padding, padding, dilation, $"Conv2d '{full}'"),
            };
            return Emit1("Conv", b is null ? new Value?[] { x, w } : new Value?[] { x, w, b }, ElementType.Float, outShape,
                IntsAttr("kernel_shape", new long[] { kernelSize, kernelSize }),
                IntsAttr("strides", new long[] { stride, stride }),
                IntsAttr("pads", new long[] { padding, padding, padding, padding }),
                IntsAttr("dilations", new long[] { dilation, dilation }),
                IntAttr("group", groups));
        }
    }

    /// <summary>torch.nn.functional.avg_pool2d (floor mode; <paramref name="countIncludePad"/> as PyTorch, default true).</summary>
    public Value AvgPool2d(Value x, int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true)
    {
        var shape = RequireRank(x, 4, "AvgPool2d");
        int s = stride ?? kernelSize;
        if (kernelSize <= 0 || s <= 0 || padding < 0 || padding * 2 > kernelSize)
            throw new ArgumentException($"AvgPool2d: kernel {kernelSize}, stride {s}, padding {padding} (padding at most half the kernel).");
        var outShape = new Dim[]
        {
            shape[0], shape[1],
            WindowOutput(shape[2], kernelSize, s, padding, padding, 1, "AvgPool2d"),
            WindowOutput(shape[3], kernelSize, s, padding, padding, 1, "AvgPool2d"),
        };
        return Emit1("AveragePool", new Value?[] { x }, Meta(x).Type, outShape,
            IntsAttr("kernel_shape", new long[] { kernelSize, kernelSize }),
            IntsAttr("strides", new long[] { s, s }),
            IntsAttr("pads", new long[] { padding, padding, padding, padding }),
            IntAttr("count_include_pad", countIncludePad ? 1 : 0));
    }

    /// <summary>
    /// torch.nn.functional.adaptive_avg_pool2d to (outputHeight, outputWidth). (1, 1) is a global average
    /// pool and works for any spatial size; otherwise the input's H and W must be known statically and
    /// divisible by the output size, and it becomes AveragePool with kernel = stride = input/output.
    /// </summary>
    public Value AdaptiveAvgPool2d(Value x, int outputHeight, int outputWidth)
    {
        var shape = RequireRank(x, 4, "AdaptiveAvgPool2d");
        if (outputHeight <= 0 || outputWidth <= 0) throw new ArgumentException($"AdaptiveAvgPool2d: output size ({outputHeight}, {outputWidth}) must be positive.");
        if (outputHeight == 1 && outputWidth == 1) return GlobalAvgPool(x);
        if (shape[2].Size is not long h || shape[3].Size is not long w || h % outputHeight != 0 || w % outputWidth != 0)
            throw new ArgumentException($"AdaptiveAvgPool2d to ({outputHeight}, {outputWidth}) needs a static spatial size divisible by it; '{x.Name}' has shape {Format(shape)}.");
        long kh = h / outputHeight, kw = w / outputWidth;
        return Emit1("AveragePool", new Value?[] { x }, Meta(x).Type, new[] { shape[0], shape[1], (Dim)outputHeight, outputWidth },
            IntsAttr("kernel_shape", new[] { kh, kw }),
            IntsAttr("strides", new[] { kh, kw }));
    }

    /// <summary>Mean over the spatial axes, keeping them as size 1: (N, C, H, W) → (N, C, 1, 1).</summary>
    public Value GlobalAvgPool(Value x)
    {
        var m = Meta(x);
        if (m.Shape is not null && m.Shape.Length < 3) throw new ArgumentException($"GlobalAvgPool: '{x.Name}' {Format(m.Shape)} has no spatial axes.");
        Dim[]? shape = m.Shape?.Select((d, i) => i < 2 ? d : (Dim)1).ToArray();
        return Emit1("GlobalAveragePool", new Value?[] { x }, m.Type, shape);
    }

    /// <summary>
    /// Nearest-neighbour upsampling by an integer factor on every spatial axis, as
    /// F.interpolate(x, scale_factor=s, mode="nearest"): ONNX Resize, nearest, asymmetric, floor.
    /// </summary>
    public Value UpsampleNearest(Value x, int scaleFactor = 2)
    {
        if (scaleFactor <= 0) throw new ArgumentOutOfRangeException(nameof(scaleFactor), scaleFactor, "The scale factor must be positive.");
        var m = Meta(x);
        if (m.Shape is null || m.Shape.Length < 3) throw new ArgumentException($"UpsampleNearest: '{x.Name}' {Format(m.Shape)} needs (N, C, spatial...).");
        var scales = m.Shape.Select((_, i) => i < 2 ? 1f : scaleFactor).ToArray();
        var shape = m.Shape.Select((d, i) => i < 2 ? d : d.Size is long s ? (Dim)(s * scaleFactor) : Dim.Unknown).ToArray();
        return Emit1("Resize", new Value?[] { x, null, Constant(scales, scales.Length) }, m.Type, shape,
            StringAttr("mode", "nearest"),
            StringAttr("coordinate_transformation_mode", "asymmetric"),
            StringAttr("nearest_mode", "floor"));
    }

    void RequireFloat32(Value x, string op)
    {
        var t = Meta(x).Type;
        if (t != ElementType.Float)
            throw new ArgumentException($"{op}: '{x.Name}' is {t}; layers with parameters take Float (float32) inputs.");
    }
}
