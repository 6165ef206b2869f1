using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>Shape arithmetic and data movement: the subgraphs exporters emit to handle dynamic batch sizes.</summary>
static class ShapeOps
{
    static Tensor?[] One(Tensor t) => new Tensor?[] { t };

    public static void Register(Dictionary<string, OpKernel> ops)
    {
        ops["Shape"] = Shape;
        ops["Size"] = c => One(torch.tensor(c.Input(0).NumberOfElements, dtype: ScalarType.Int64));
        ops["Reshape"] = Reshape;
        ops["Flatten"] = c =>
        {
            var x = c.Input(0);
            long axis = c.Int("axis", 1);
            if (axis < 0) axis += x.dim();
            long outer = 1;
            for (int i = 0; i < axis; i++) outer *= x.shape[i];
            return One(x.reshape(outer, -1));
        };
        ops["Squeeze"] = Squeeze;
        ops["Unsqueeze"] = Unsqueeze;
        ops["Transpose"] = c =>
        {
            var x = c.Input(0);
            var perm = c.Ints("perm") ?? Enumerable.Range(0, (int)x.dim()).Reverse().Select(i => (long)i).ToArray();
            return One(x.permute(perm));
        };
        ops["Concat"] = c =>
        {
            var parts = c.Inputs.Where(t => t is not null && !(t.dim() == 1 && t.shape[0] == 0)).Select(t => t!).ToList();
            if (parts.Count == 0) return One(c.Input(0).alias());
            long axis = c.Int("axis", 0);
            return One(torch.cat(parts, axis < 0 ? axis + parts[0].dim() : axis));
        };
        ops["Split"] = Split;
        ops["Slice"] = Slice;
        ops["Gather"] = Gather;
        ops["GatherElements"] = c =>
        {
            var x = c.Input(0);
            long axis = c.Axis(c.Int("axis", 0), x.dim());
            var idx = c.Input(1);
            idx = torch.where(idx < 0, idx + x.shape[axis], idx);
            return One(x.gather(axis, idx));
        };
        ops["GatherND"] = GatherND;
        ops["ScatterND"] = ScatterND;
        ops["ScatterElements"] = ScatterElements;
        ops["Expand"] = c =>
        {
            var x = c.Input(0);
            var shape = NodeContext.Longs(c.Input(1));
            return One(x.expand(BroadcastShape(x.shape, shape)));
        };
        ops["Tile"] = c => One(c.Input(0).tile(NodeContext.Longs(c.Input(1))));
        ops["ConstantOfShape"] = c =>
        {
            var shape = NodeContext.Longs(c.Input(0));
            var value = c.TensorAttribute("value");
            if (value is null) return One(torch.zeros(shape, dtype: ScalarType.Float32, device: c.Input(0).device));
            using var v = OnnxTensor.ToTorch(value);
            return One(v.reshape(Array.Empty<long>()).to(c.Input(0).device).expand(shape).contiguous());
        };
        ops["Range"] = c =>
        {
            var start = c.Input(0);
            double s = NodeContext.Doubles(start)[0], l = NodeContext.Doubles(c.Input(1))[0], d = NodeContext.Doubles(c.Input(2))[0];
            long n = Math.Max((long)Math.Ceiling((l - s) / d), 0);
            return One((torch.arange(n, dtype: ScalarType.Float64, device: start.device) * d + s).to(start.dtype));
        };
        ops["Constant"] = Constant;
        ops["Trilu"] = c =>
        {
            var x = c.Input(0);
            long k = c.HasInput(1) ? NodeContext.Longs(c.Input(1))[0] : 0;
            return One(c.Int("upper", 1) == 1 ? x.triu(k) : x.tril(k));
        };
        ops["Pad"] = Pad;
        ops["NonZero"] = c => One(c.Input(0).nonzero().t().contiguous());
        ops["Einsum"] = c => One(torch.einsum(c.String("equation", ""), c.Inputs.Select(t => t!).ToArray()));
        ops["DepthToSpace"] = c =>
        {
            var x = c.Input(0);
            long b = c.Int("blocksize", 1), n = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
            Tensor y = c.String("mode", "DCR") == "CRD"
                ? x.reshape(n, ch / (b * b), b, b, h, w).permute(0, 1, 4, 2, 5, 3)
                : x.reshape(n, b, b, ch / (b * b), h, w).permute(0, 3, 4, 1, 5, 2);
            return One(y.reshape(n, ch / (b * b), h * b, w * b));
        };
        ops["SpaceToDepth"] = c =>
        {
            var x = c.Input(0);
            long b = c.Int("blocksize", 1), n = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
            return One(x.reshape(n, ch, h / b, b, w / b, b).permute(0, 3, 5, 1, 2, 4).reshape(n, ch * b * b, h / b, w / b));
        };
    }

    /// <summary>ONNX Expand: bidirectional broadcast of the input shape with the requested one.</summary>
    static long[] BroadcastShape(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            long db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            result[i] = da == 1 ? db : db == 1 ? da : da == db ? da : throw new InvalidDataException($"Expand: shapes [{string.Join(",", a)}] and [{string.Join(",", b)}] do not broadcast.");
        }
        return result;
    }

    static Tensor?[] Shape(NodeContext c)
    {
        var shape = c.Input(0).shape;
        long rank = shape.Length;
        long start = c.Int("start", 0), end = c.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        var slice = shape.Skip((int)start).Take((int)Math.Max(end - start, 0)).ToArray();
        return One(torch.tensor(slice, dtype: ScalarType.Int64));
    }

    static Tensor?[] Reshape(NodeContext c)
    {
        var x = c.Input(0);
        var target = NodeContext.Longs(c.Input(1));
        bool allowZero = c.Int("allowzero", 0) == 1;
        if (!allowZero)
            for (int i = 0; i < target.Length; i++)
                if (target[i] == 0) target[i] = x.shape[i];
        return One(x.reshape(target));
    }

    static long[] AxesFrom(NodeContext c, int inputIndex)
    {
        if (c.Opset >= 13 && c.HasInput(inputIndex)) return NodeContext.Longs(c.Input(inputIndex));
        return c.Ints("axes") ?? Array.Empty<long>();
    }

    static Tensor?[] Squeeze(NodeContext c)
    {
        var x = c.Input(0);
        var axes = AxesFrom(c, 1);
        if (axes.Length == 0)
            return One(x.reshape(x.shape.Where(d => d != 1).ToArray()));
        var drop = axes.Select(a => c.Axis(a, x.dim())).ToHashSet();
        return One(x.reshape(x.shape.Where((d, i) => !drop.Contains(i)).ToArray()));
    }

    static Tensor?[] Unsqueeze(NodeContext c)
    {
        var x = c.Input(0);
        var axes = AxesFrom(c, 1);
        long rank = x.dim() + axes.Length;
        var insert = axes.Select(a => c.Axis(a, rank)).ToHashSet();
        var shape = new long[rank];
        int src = 0;
        for (int i = 0; i < rank; i++) shape[i] = insert.Contains(i) ? 1 : x.shape[src++];
        return One(x.reshape(shape));
    }

    static Tensor?[] Split(NodeContext c)
    {
        var x = c.Input(0);
        long axis = c.Axis(c.Int("axis", 0), x.dim());
        long[]? sizes = c.Opset >= 13 && c.HasInput(1) ? NodeContext.Longs(c.Input(1)) : c.Ints("split");
        int parts = c.OutputCount;
        if (sizes is null || sizes.Length == 0)
        {
            long dim = x.shape[axis];
            long chunk = (dim + parts - 1) / parts; // opset 18 num_outputs: last part may be smaller
            sizes = Enumerable.Range(0, parts).Select(i => Math.Min(chunk, dim - i * chunk)).ToArray();
        }
        return x.split(sizes, axis).Select(t => (Tensor?)t).ToArray();
    }

    static Tensor?[] Slice(NodeContext c)
    {
        var x = c.Input(0);
        long[] starts, ends, axes, steps;
        if (c.Opset < 10)
        {
            starts = c.Ints("starts")!;
            ends = c.Ints("ends")!;
            axes = c.Ints("axes") ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        else
        {
            starts = NodeContext.Longs(c.Input(1));
            ends = NodeContext.Longs(c.Input(2));
            axes = c.HasInput(3) ? NodeContext.Longs(c.Input(3)) : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = c.HasInput(4) ? NodeContext.Longs(c.Input(4)) : Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        Tensor y = x.alias();
        for (int i = 0; i < starts.Length; i++)
        {
            long axis = c.Axis(axes[i], x.dim());
            long dim = x.shape[axis];
            long step = steps[i];
            long start = starts[i], end = ends[i];
            Tensor next;
            if (step > 0)
            {
                start = start < 0 ? Math.Max(start + dim, 0) : Math.Min(start, dim);
                end = end < 0 ? Math.Max(end + dim, 0) : Math.Min(end, dim);
                next = end <= start ? y.narrow(axis, 0, 0) : y.slice(axis, start, end, step);
            }
            else
            {
                // Negative step: walk backwards from start (clamped to dim-1) down to end (exclusive; may be -1).
                start = start < 0 ? Math.Max(start + dim, -1) : Math.Min(start, dim - 1);
                end = end < 0 ? Math.Max(end + dim, -1) : Math.Min(end, dim - 1);
                if (start <= end) next = y.narrow(axis, 0, 0);
                else
                {
                    long count = (start - end + (-step) - 1) / (-step);
                    using var idx = torch.arange(count, dtype: ScalarType.Int64, device: x.device) * step + start;
                    next = y.index_select(axis, idx);
                }
            }
            y.Dispose();
            y = next;
        }
        return One(y);
    }

    static Tensor?[] Gather(NodeContext c)
    {
        var x = c.Input(0);
        var idx = c.Input(1);
        long axis = c.Axis(c.Int("axis", 0), x.dim());
        if (idx.dtype != ScalarType.Int64) idx = idx.to(ScalarType.Int64);
        using var fixedIdx = torch.where(idx < 0, idx + x.shape[axis], idx);
        using var flat = fixedIdx.reshape(-1);
        using var picked = x.index_select(axis, flat);
        var shape = x.shape.Take((int)axis).Concat(idx.shape).Concat(x.shape.Skip((int)axis + 1)).ToArray();
        return One(picked.reshape(shape));
    }

    static Tensor?[] GatherND(NodeContext c)
    {
        var x = c.Input(0);
        var idx = c.Input(1).to(ScalarType.Int64);
        long b = c.Int("batch_dims", 0);
        if (b != 0) throw c.Unsupported("GatherND with batch_dims != 0");
        long k = idx.shape[^1];
        var batchShape = idx.shape.Take(idx.shape.Length - 1).ToArray();
        using var flatIdx = idx.reshape(-1, k);
        var cols = Enumerable.Range(0, (int)k).Select(j =>
        {
            var col = flatIdx.select(1, j);
            return TensorIndex.Tensor(torch.where(col < 0, col + x.shape[j], col));
        }).ToArray();
        using var picked = x.index(cols);
        return One(picked.reshape(batchShape.Concat(x.shape.Skip((int)k)).ToArray()));
    }

    static Tensor?[] ScatterND(NodeContext c)
    {
        var x = c.Input(0);
        var idx = c.Input(1).to(ScalarType.Int64);
        var updates = c.Input(2);
        long k = idx.shape[^1];
        using var flatIdx = idx.reshape(-1, k);
        var cols = Enumerable.Range(0, (int)k).Select(j => flatIdx.select(1, j)).ToArray();
        using var flatUpdates = updates.reshape(new long[] { flatIdx.shape[0] }.Concat(x.shape.Skip((int)k)).ToArray());
        var reduction = c.String("reduction", "none");
        if (reduction is not ("none" or "add")) throw c.Unsupported($"ScatterND reduction '{reduction}'");
        var y = x.clone();
        y.index_put_(flatUpdates, cols, accumulate: reduction == "add");
        return One(y);
    }

    static Tensor?[] ScatterElements(NodeContext c)
    {
        var x = c.Input(0);
        long axis = c.Axis(c.Int("axis", 0), x.dim());
        var idx = c.Input(1).to(ScalarType.Int64);
        idx = torch.where(idx < 0, idx + x.shape[axis], idx);
        var reduction = c.String("reduction", "none");
        return reduction switch
        {
            "none" => One(x.scatter(axis, idx, c.Input(2))),
            "add" => One(x.scatter_add(axis, idx, c.Input(2))),
            _ => throw c.Unsupported($"ScatterElements reduction '{reduction}'"),
        };
    }

    static Tensor?[] Constant(NodeContext c)
    {
        var t = c.TensorAttribute("value");
        if (t is not null) return One(OnnxTensor.ToTorch(t));
        if (c.HasAttribute("value_float")) return One(torch.tensor(c.Float("value_float", 0)));
        if (c.HasAttribute("value_floats")) return One(torch.tensor(c.Floats("value_floats")!));
        if (c.HasAttribute("value_int")) return One(torch.tensor(c.Int("value_int", 0)));
        if (c.HasAttribute("value_ints")) return One(torch.tensor(c.Ints("value_ints")!));
        throw c.Unsupported("a Constant without value/value_float(s)/value_int(s)");
    }

    static Tensor?[] Pad(NodeContext c)
    {
        var x = c.Input(0);
        long[] pads;
        double value = 0;
        if (c.Opset < 11)
        {
            pads = c.Ints("pads")!;
            value = c.Float("value", 0);
        }
        else
        {
            pads = NodeContext.Longs(c.Input(1));
            if (c.HasInput(2) && c.Input(2).NumberOfElements > 0) value = NodeContext.Doubles(c.Input(2))[0];
        }
        long rank = x.dim();
        var axes = c.HasInput(3) ? NodeContext.Longs(c.Input(3)).Select(a => c.Axis(a, rank)).ToArray() : Enumerable.Range(0, (int)rank).Select(i => (long)i).ToArray();
        // ONNX: [b_axis0, b_axis1, ..., e_axis0, e_axis1, ...]; torch: pairs from the last dim backwards.
        var full = new long[rank * 2];
        for (int i = 0; i < axes.Length; i++)
        {
            full[axes[i]] = pads[i];
            full[rank + axes[i]] = pads[axes.Length + i];
        }
        var torchPads = new List<long>();
        long lastPadded = rank - 1;
        while (lastPadded > 0 && full[lastPadded] == 0 && full[rank + lastPadded] == 0) lastPadded--;
        long firstPadded = 0;
        while (firstPadded < rank && full[firstPadded] == 0 && full[rank + firstPadded] == 0) firstPadded++;
        if (firstPadded == rank) return One(x.alias());
        for (long d = rank - 1; d >= firstPadded; d--) { torchPads.Add(full[d]); torchPads.Add(full[rank + d]); }
        var mode = c.String("mode", "constant") switch
        {
            "constant" => PaddingModes.Constant,
            "reflect" => PaddingModes.Reflect,
            "edge" => PaddingModes.Replicate,
            "wrap" => PaddingModes.Circular,
            var m => throw c.Unsupported($"Pad mode '{m}'"),
        };
        return One(nn.functional.pad(x, torchPads.ToArray(), mode, value));
    }
}
