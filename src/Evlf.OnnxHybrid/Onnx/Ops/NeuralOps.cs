using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>Linear algebra, convolution, normalisation, pooling, resizing, softmax and dropout.</summary>
static class NeuralOps
{
    static Tensor?[] One(Tensor t) => new Tensor?[] { t };

    public static void Register(Dictionary<string, OpKernel> ops)
    {
        ops["MatMul"] = c => One(torch.matmul(c.Input(0), c.Input(1)));
        ops["Gemm"] = Gemm;
        ops["Conv"] = Conv;
        ops["ConvTranspose"] = ConvTranspose;
        ops["BatchNormalization"] = BatchNormalization;
        ops["InstanceNormalization"] = c => One(F.instance_norm(c.Input(0), weight: c.Input(1), bias: c.Input(2), eps: c.Float("epsilon", 1e-5f)));
        ops["LayerNormalization"] = LayerNormalization;
        ops["GroupNormalization"] = GroupNormalization;
        ops["Softmax"] = c => One(SoftmaxLike(c, (x, axis) => x.softmax(axis)));
        ops["LogSoftmax"] = c => One(SoftmaxLike(c, (x, axis) => x.log_softmax(axis)));
        ops["Dropout"] = Dropout;
        ops["AveragePool"] = AveragePool;
        ops["MaxPool"] = MaxPool;
        ops["GlobalAveragePool"] = c =>
        {
            var x = c.Input(0);
            return One(x.mean(Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true));
        };
        ops["GlobalMaxPool"] = c =>
        {
            var x = c.Input(0);
            return One(x.flatten(2).amax(new long[] { 2 }, keepdim: true).reshape(x.shape.Take(2).Concat(Enumerable.Repeat(1L, (int)x.dim() - 2)).ToArray()));
        };
        ops["Resize"] = Resize;
        ops["Upsample"] = Resize;
    }

    static Tensor?[] Gemm(NodeContext c)
    {
        var a = c.Input(0);
        var b = c.Input(1);
        if (c.Int("transA", 0) == 1) a = a.t();
        if (c.Int("transB", 0) == 1) b = b.t();
        float alpha = c.Float("alpha", 1f), beta = c.Float("beta", 1f);
        // The common case (torch's nn.Linear on 2-D input): one GEMM that adds C itself.
        if (c.HasInput(2) && alpha == 1f && beta == 1f) return One(torch.addmm(c.Input(2), a, b, 1f, 1f));
        var y = torch.matmul(a, b);
        if (alpha != 1f) y = y * alpha;
        if (c.HasInput(2)) y = beta == 1f ? y + c.Input(2) : y + c.Input(2) * beta;
        return One(y);
    }

    /// <summary>Explicit per-side pads for a convolution or pool: symmetric ones go to the op, the rest are applied with F.pad first.</summary>
    static (Tensor Input, long[] SymmetricPads) ApplyPads(NodeContext c, Tensor x, long[] kernel, long[] strides, long[] dilations)
    {
        int spatial = kernel.Length;
        string autoPad = c.String("auto_pad", "NOTSET");
        long[] pads = c.Ints("pads") ?? new long[spatial * 2];
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            pads = new long[spatial * 2];
            for (int i = 0; i < spatial; i++)
            {
                long inSize = x.shape[2 + i];
                long outSize = (inSize + strides[i] - 1) / strides[i];
                long total = Math.Max((outSize - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inSize, 0);
                long small = total / 2, big = total - small;
                pads[i] = autoPad == "SAME_UPPER" ? small : big;
                pads[spatial + i] = autoPad == "SAME_UPPER" ? big : small;
            }
        }
        else if (autoPad == "VALID") pads = new long[spatial * 2];

        bool symmetric = Enumerable.Range(0, spatial).All(i => pads[i] == pads[spatial + i]);
        if (symmetric) return (x, pads.Take(spatial).ToArray());
        var torchPads = new List<long>();
        for (int i = spatial - 1; i >= 0; i--) { torchPads.Add(pads[i]); torchPads.Add(pads[spatial + i]); }
        return (F.pad(x, torchPads.ToArray()), new long[spatial]);
    }

    static Tensor?[] Conv(NodeContext c)
    {
        var x = c.Input(0);
        var w = c.Input(1);
        var bias = c.OptionalInput(2);
        int spatial = (int)w.dim() - 2;
        var kernel = c.Ints("kernel_shape") ?? w.shape.Skip(2).ToArray();
        var strides = c.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var dilations = c.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long groups = c.Int("group", 1);
        var (input, pads) = ApplyPads(c, x, kernel, strides, dilations);
        return spatial switch
        {
            1 => One(F.conv1d(input, w, bias, strides[0], pads[0], dilations[0], groups)),
            2 => One(F.conv2d(input, w, bias, strides, pads, dilations, groups)),
            3 => One(F.conv3d(input, w, bias, strides, pads, dilations, groups)),
            _ => throw c.Unsupported($"Conv with {spatial} spatial dimensions"),
        };
    }

    static Tensor?[] ConvTranspose(NodeContext c)
    {
        var x = c.Input(0);
        var w = c.Input(1);
        var bias = c.OptionalInput(2);
        int spatial = (int)w.dim() - 2;
        var strides = c.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var dilations = c.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var outputPadding = c.Ints("output_padding") ?? new long[spatial];
        long groups = c.Int("group", 1);
        var pads = c.Ints("pads") ?? new long[spatial * 2];
        if (c.HasAttribute("output_shape") || c.String("auto_pad", "NOTSET") != "NOTSET")
            throw c.Unsupported("ConvTranspose with output_shape or auto_pad");
        if (!Enumerable.Range(0, spatial).All(i => pads[i] == pads[spatial + i]))
            throw c.Unsupported("ConvTranspose with asymmetric pads");
        var p = pads.Take(spatial).ToArray();
        return spatial switch
        {
            1 => One(F.conv_transpose1d(x, w, bias, strides[0], p[0], outputPadding[0], dilations[0], groups)),
            2 => One(F.conv_transpose2d(x, w, bias, strides, p, outputPadding, dilations, groups)),
            3 => One(F.conv_transpose3d(x, w, bias, strides, p, outputPadding, dilations, groups)),
            _ => throw c.Unsupported($"ConvTranspose with {spatial} spatial dimensions"),
        };
    }

    static Tensor?[] BatchNormalization(NodeContext c)
    {
        var x = c.Input(0);
        var scale = c.Input(1);
        var bias = c.Input(2);
        var mean = c.Input(3);
        var variance = c.Input(4);
        double eps = c.Float("epsilon", 1e-5f);
        // ONNX: running = running * momentum + batch * (1 - momentum); torch's momentum is the weight of the batch.
        double torchMomentum = 1.0 - c.Float("momentum", 0.9f);
        var y = F.batch_norm(x, mean, variance, scale, bias, training: c.Training, momentum: torchMomentum, eps: eps);
        var result = new Tensor?[c.OutputCount];
        result[0] = y;
        if (c.OutputCount > 1) result[1] = mean.alias();
        if (c.OutputCount > 2) result[2] = variance.alias();
        return result;
    }

    static Tensor?[] LayerNormalization(NodeContext c)
    {
        var x = c.Input(0);
        long axis = c.Axis(c.Int("axis", -1), x.dim());
        var normalized = x.shape.Skip((int)axis).ToArray();
        var scale = c.Input(1);
        var bias = c.OptionalInput(2);
        if (!scale.shape.SequenceEqual(normalized)) scale = scale.expand(normalized);
        if (bias is not null && !bias.shape.SequenceEqual(normalized)) bias = bias.expand(normalized);
        if (c.OutputCount > 1 && c.Node.Output.Skip(1).Any(o => o.Length > 0))
            throw c.Unsupported("LayerNormalization's Mean/InvStdDev outputs");
        return One(F.layer_norm(x, normalized, scale, bias, c.Float("epsilon", 1e-5f)));
    }

    static Tensor?[] GroupNormalization(NodeContext c)
    {
        var x = c.Input(0);
        long groups = c.Int("num_groups", 1);
        long channels = x.shape[1];
        var scale = c.Input(1);
        var bias = c.Input(2);
        // Opset 18 gives scale/bias per group, opset 21 per channel.
        if (scale.NumberOfElements == groups && groups != channels)
        {
            scale = scale.repeat_interleave(channels / groups);
            bias = bias.repeat_interleave(channels / groups);
        }
        return One(F.group_norm(x, groups, scale, bias, c.Float("epsilon", 1e-5f)));
    }

    static Tensor SoftmaxLike(NodeContext c, Func<Tensor, long, Tensor> op)
    {
        var x = c.Input(0);
        if (c.Opset >= 13) return op(x, c.Axis(c.Int("axis", -1), x.dim()));
        // Before opset 13 the input is coerced to 2-D at `axis` (default 1) and normalised over the second part.
        long axis = c.Axis(c.Int("axis", 1), x.dim());
        long outer = x.shape.Take((int)axis).Aggregate(1L, (a, b) => a * b);
        return op(x.reshape(outer, -1), 1).reshape(x.shape);
    }

    static Tensor?[] Dropout(NodeContext c)
    {
        var x = c.Input(0);
        // The graph's training_mode input is ignored: the module's train()/eval() state decides, as in PyTorch.
        // The ratio is read only in training: in eval the node is an alias, with no scalar copied off the tensor.
        double ratio = !c.Training ? 0 : c.Opset >= 12 ? (c.HasInput(1) ? NodeContext.Doubles(c.Input(1))[0] : 0.5) : c.Float("ratio", 0.5f);
        var result = new Tensor?[c.OutputCount];
        if (ratio > 0)
        {
            bool wantsMask = c.OutputCount > 1 && c.Node.Output[1].Length > 0;
            if (x.device_type == DeviceType.CPU || c.Generator is not null)
            {
                // A module's generator is a CPU generator (libtorch refuses it for CUDA draws): on a GPU the same hash mask is
                // made on the CPU and moved, so a seeded run drops the same elements wherever it trains.
                using var cpuScale = DropoutMask.Scale(x.shape, ratio, DropoutMask.DrawSeed(c.Generator));
                using var scale = x.device_type == DeviceType.CPU ? cpuScale.alias() : cpuScale.to(x.device);
                result[0] = x * (x.dtype == ScalarType.Float32 ? scale : scale.to(x.dtype));
                if (wantsMask) result[1] = scale.ne(0);
            }
            else if (wantsMask)
            {
                var mask = torch.rand(x.shape, dtype: x.dtype, device: x.device, generator: c.Generator).ge(ratio);
                result[0] = x * mask / (1 - ratio);
                if (wantsMask) result[1] = mask;
            }
            else result[0] = F.dropout(x, ratio, training: true);
        }
        else
        {
            result[0] = x.alias();
            if (c.OutputCount > 1) result[1] = torch.ones_like(x, dtype: ScalarType.Bool);
        }
        return result;
    }

    static Tensor?[] AveragePool(NodeContext c)
    {
        var x = c.Input(0);
        var kernel = c.Ints("kernel_shape")!;
        int spatial = kernel.Length;
        var strides = c.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        bool ceil = c.Int("ceil_mode", 0) == 1;
        bool countIncludePad = c.Int("count_include_pad", 0) == 1;
        var pads = c.Ints("pads") ?? new long[spatial * 2];
        bool padded = pads.Any(p => p != 0) || c.String("auto_pad", "NOTSET") is "SAME_UPPER" or "SAME_LOWER";
        if (padded && !countIncludePad && !Enumerable.Range(0, spatial).All(i => pads[i] == pads[spatial + i]))
            throw c.Unsupported("AveragePool with asymmetric pads and count_include_pad=0");
        var (input, sym) = ApplyPads(c, x, kernel, strides, Enumerable.Repeat(1L, spatial).ToArray());
        return spatial switch
        {
            1 => One(F.avg_pool1d(input, kernel[0], strides[0], sym[0], ceil, countIncludePad)),
            2 => One(F.avg_pool2d(input, kernel, strides, sym, ceil, countIncludePad)),
            3 => One(F.avg_pool3d(input, kernel, strides, sym, ceil, countIncludePad)),
            _ => throw c.Unsupported($"AveragePool with {spatial} spatial dimensions"),
        };
    }

    static Tensor?[] MaxPool(NodeContext c)
    {
        var x = c.Input(0);
        var kernel = c.Ints("kernel_shape")!;
        int spatial = kernel.Length;
        var strides = c.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var dilations = c.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        bool ceil = c.Int("ceil_mode", 0) == 1;
        if (c.OutputCount > 1 && c.Node.Output[1].Length > 0) throw c.Unsupported("MaxPool's Indices output");
        var pads = c.Ints("pads") ?? new long[spatial * 2];
        Tensor input = x;
        long[] sym;
        if (Enumerable.Range(0, spatial).All(i => pads[i] == pads[spatial + i]) && c.String("auto_pad", "NOTSET") == "NOTSET")
            sym = pads.Take(spatial).ToArray();
        else
        {
            // Pad with -inf so padded cells never win.
            var torchPads = new List<long>();
            for (int i = spatial - 1; i >= 0; i--) { torchPads.Add(pads[i]); torchPads.Add(pads[spatial + i]); }
            input = F.pad(x, torchPads.ToArray(), PaddingModes.Constant, double.NegativeInfinity);
            sym = new long[spatial];
        }
        return spatial switch
        {
            1 => One(F.max_pool1d(input, kernel[0], strides[0], sym[0], dilations[0], ceil)),
            2 => One(F.max_pool2d(input, kernel, strides, sym, dilations, ceil)),
            3 => One(F.max_pool3d(input, kernel, strides, sym, dilations, ceil)),
            _ => throw c.Unsupported($"MaxPool with {spatial} spatial dimensions"),
        };
    }

    static Tensor?[] Resize(NodeContext c)
    {
        var x = c.Input(0);
        int spatial = (int)x.dim() - 2;
        double[]? scales = null;
        long[]? sizes = null;
        if (c.OpType == "Upsample" || c.Opset < 11)
            scales = c.HasInput(1) ? NodeContext.Doubles(c.Input(1)) : c.Floats("scales")!.Select(f => (double)f).ToArray();
        else
        {
            if (c.HasInput(3) && c.Input(3).NumberOfElements > 0) sizes = NodeContext.Longs(c.Input(3));
            else if (c.HasInput(2) && c.Input(2).NumberOfElements > 0) scales = NodeContext.Doubles(c.Input(2));
        }
        if (c.HasAttribute("axes")) throw c.Unsupported("Resize with the axes attribute");
        if (scales is not null && (scales[0] != 1 || scales[1] != 1)) throw c.Unsupported("Resize of the batch or channel axis");
        if (sizes is not null && (sizes[0] != x.shape[0] || sizes[1] != x.shape[1])) throw c.Unsupported("Resize of the batch or channel axis");
        var outSize = sizes?.Skip(2).ToArray() ?? Enumerable.Range(0, spatial).Select(i => (long)Math.Floor(x.shape[2 + i] * scales![2 + i])).ToArray();

        string mode = c.String("mode", "nearest");
        string coord = c.OpType == "Upsample" || c.Opset < 11 ? "asymmetric" : c.String("coordinate_transformation_mode", "half_pixel");
        string nearestMode = c.String("nearest_mode", "round_prefer_floor");
        double[]? scaleArg = scales?.Skip(2).ToArray();

        switch (mode)
        {
            case "nearest" when coord == "asymmetric" && (nearestMode == "floor" || c.OpType == "Upsample" || c.Opset < 11):
                // torch 'nearest': src = floor(dst * in/out), identical to ONNX asymmetric + floor.
                return One(scaleArg is not null
                    ? F.interpolate(x, scale_factor: scaleArg, mode: InterpolationMode.Nearest)
                    : F.interpolate(x, size: outSize, mode: InterpolationMode.Nearest));
            case "nearest" when coord is "half_pixel" or "pytorch_half_pixel" && nearestMode is "round_prefer_ceil" or "round_prefer_floor":
                // torch 'nearest-exact': src = floor((dst + 0.5) * in/out); differs from ONNX only at exact .5 ties.
                return One(F.interpolate(x, size: outSize, mode: InterpolationMode.NearestExact));
            case "linear" or "cubic":
                bool alignCorners = coord == "align_corners";
                if (!alignCorners && coord is not ("half_pixel" or "pytorch_half_pixel"))
                    throw c.Unsupported($"Resize mode '{mode}' with coordinate_transformation_mode '{coord}'");
                if (mode == "cubic" && Math.Abs(c.Float("cubic_coeff_a", -0.75f) + 0.75f) > 1e-6)
                    throw c.Unsupported("Resize cubic with cubic_coeff_a other than -0.75");
                var m = mode == "cubic" ? InterpolationMode.Bicubic : spatial switch
                {
                    1 => InterpolationMode.Linear,
                    2 => InterpolationMode.Bilinear,
                    3 => InterpolationMode.Trilinear,
                    _ => throw c.Unsupported($"linear Resize over {spatial} axes"),
                };
                return One(F.interpolate(x, size: outSize, mode: m, align_corners: alignCorners));
            default:
                throw c.Unsupported($"Resize mode '{mode}' with coordinate_transformation_mode '{coord}' and nearest_mode '{nearestMode}'");
        }
    }
}
