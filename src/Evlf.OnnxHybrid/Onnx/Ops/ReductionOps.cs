using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>Reductions, arg-reductions and cumulative sums.</summary>
static class ReductionOps
{
    static Tensor?[] One(Tensor t) => new Tensor?[] { t };

    public static void Register(Dictionary<string, OpKernel> ops)
    {
        ops["ReduceMean"] = c => Reduce(c, 18, (x, axes, keep) => x.mean(axes, keep));
        ops["ReduceSum"] = c => Reduce(c, 13, (x, axes, keep) => x.sum(axes, keep));
        ops["ReduceMax"] = c => Reduce(c, 18, (x, axes, keep) => x.amax(axes, keep));
        ops["ReduceMin"] = c => Reduce(c, 18, (x, axes, keep) => x.amin(axes, keep));
        ops["ReduceProd"] = c => Reduce(c, 18, (x, axes, keep) =>
        {
            Tensor y = x;
            foreach (var a in axes.OrderByDescending(a => a)) y = y.prod(a, keep);
            return y;
        });
        ops["ReduceSumSquare"] = c => Reduce(c, 18, (x, axes, keep) => (x * x).sum(axes, keep));
        ops["ReduceL1"] = c => Reduce(c, 18, (x, axes, keep) => x.abs().sum(axes, keep));
        ops["ReduceL2"] = c => Reduce(c, 18, (x, axes, keep) => (x * x).sum(axes, keep).sqrt());
        ops["ReduceLogSumExp"] = c => Reduce(c, 18, (x, axes, keep) =>
        {
            Tensor y = x;
            foreach (var a in axes.OrderByDescending(a => a)) y = y.logsumexp(a, keep);
            return y;
        });
        ops["ArgMax"] = c => ArgReduce(c, max: true);
        ops["ArgMin"] = c => ArgReduce(c, max: false);
        ops["CumSum"] = c =>
        {
            var x = c.Input(0);
            long axis = c.Axis(NodeContext.Longs(c.Input(1))[0], x.dim());
            bool reverse = c.Int("reverse", 0) == 1, exclusive = c.Int("exclusive", 0) == 1;
            var y = reverse ? x.flip(axis).cumsum(axis).flip(axis) : x.cumsum(axis);
            if (exclusive) y = y - x;
            return One(y);
        };
    }

    /// <param name="c">The node: data is input 0; keepdims, noop_with_empty_axes and (before <paramref name="axesInputSince"/>) axes are attributes.</param>
    /// <param name="axesInputSince">Opset from which this reduction takes its axes as input 1 instead of an attribute.</param>
    /// <param name="reduce">Reduces x over the given non-negative axes, keeping them as size 1 when the flag is set (keepdims).</param>
    static Tensor?[] Reduce(NodeContext c, long axesInputSince, Func<Tensor, long[], bool, Tensor> reduce)
    {
        var x = c.Input(0);
        bool keep = c.Int("keepdims", 1) == 1;
        long[]? axes = c.Opset >= axesInputSince ? (c.HasInput(1) ? NodeContext.Longs(c.Input(1)) : null) : c.Ints("axes");
        if (axes is null || axes.Length == 0)
        {
            if (c.Int("noop_with_empty_axes", 0) == 1) return One(x.alias());
            axes = Enumerable.Range(0, (int)x.dim()).Select(i => (long)i).ToArray();
        }
        axes = axes.Select(a => c.Axis(a, x.dim())).ToArray();
        if (x.dim() == 0) return One(x.alias());
        return One(reduce(x, axes, keep));
    }

    static Tensor?[] ArgReduce(NodeContext c, bool max)
    {
        var x = c.Input(0);
        long axis = c.Axis(c.Int("axis", 0), x.dim());
        bool keep = c.Int("keepdims", 1) == 1;
        if (c.Int("select_last_index", 0) == 1)
        {
            var flipped = x.flip(axis);
            var idx = max ? flipped.argmax(axis, keep) : flipped.argmin(axis, keep);
            return One(x.shape[axis] - 1 - idx);
        }
        return One(max ? x.argmax(axis, keep) : x.argmin(axis, keep));
    }
}
