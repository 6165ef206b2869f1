namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Static shape inference for the ops the builder emits: enough to declare output shapes, check layer
/// arguments early (a Linear's in_features against its input) and resolve what needs a known size
/// (adaptive pooling, chunk sizes). A dimension that cannot be told statically is <see cref="Dim.Unknown"/>;
/// a null shape means even the rank is unknown.
/// </summary>
public sealed partial class GraphBuilder
{
    static long NormalizeAxis(long axis, int rank, string op)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"{op}: axis {axis} is out of range for rank {rank}.");
        return a;
    }

    static Dim[]? BroadcastShapes(string op, Dim[]? a, Dim[]? b)
    {
        if (a is null || b is null) return null;
        int rank = Math.Max(a.Length, b.Length);
        var result = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            Dim x = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            Dim y = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            result[i] = BroadcastDim(op, x, y, a, b);
        }
        return result;
    }

    static Dim BroadcastDim(string op, Dim x, Dim y, Dim[] a, Dim[] b)
    {
        if (x.Size == 1) return y;
        if (y.Size == 1) return x;
        if (x == y) return x;
        if (x.IsFixed && y.IsFixed)
            throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} do not broadcast.");
        // A fixed size other than 1 wins over a symbol or unknown (the other must equal it or be 1).
        if (x.IsFixed) return x;
        if (y.IsFixed) return y;
        return Dim.Unknown;
    }

    static Dim[]? MatMulShape(Dim[]? a, Dim[]? b)
    {
        if (a is null || b is null) return null;
        if (a.Length == 0 || b.Length == 0) throw new ArgumentException("MatMul: scalars cannot be multiplied as matrices.");
        var a2 = a.Length == 1 ? new Dim[] { 1, a[0] } : a;
        var b2 = b.Length == 1 ? new Dim[] { b[0], 1 } : b;
        Dim k1 = a2[^1], k2 = b2[^2];
        if (k1.IsFixed && k2.IsFixed && k1.Size != k2.Size)
            throw new ArgumentException($"MatMul: inner dimensions differ, {Format(a)} × {Format(b)}.");
        var batch = BroadcastShapes("MatMul", a2[..^2], b2[..^2])!;
        var result = batch.ToList();
        if (a.Length > 1) result.Add(a2[^2]);
        if (b.Length > 1) result.Add(b2[^1]);
        return result.ToArray();
    }

    static Dim[]? TransposeShape(Dim[]? x, long[] perm)
    {
        if (x is null) return null;
        if (perm.Length != x.Length || perm.Order().Select((p, i) => p == i).Any(ok => !ok))
            throw new ArgumentException($"Transpose: [{string.Join(", ", perm)}] is not a permutation of the {x.Length} axes of {Format(x)}.");
        return perm.Select(p => x[p]).ToArray();
    }

    /// <summary>ONNX Reshape with allowzero = 0: 0 copies the input's dimension, −1 is inferred.</summary>
    static Dim[]? ReshapeShape(Dim[]? x, long[] target)
    {
        if (target.Count(t => t == -1) > 1) throw new ArgumentException($"Reshape: at most one −1 in [{string.Join(", ", target)}].");
        if (target.Any(t => t < -1)) throw new ArgumentException($"Reshape: invalid target [{string.Join(", ", target)}].");
        var result = new Dim[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == 0)
            {
                if (x is not null && i >= x.Length) throw new ArgumentException($"Reshape: target [{string.Join(", ", target)}] copies dimension {i} of {Format(x)}, which has none.");
                result[i] = x is null ? Dim.Unknown : x[i];
            }
            else if (target[i] > 0) result[i] = target[i];
        }
        int inferred = Array.IndexOf(target, -1L);
        if (inferred < 0)
        {
            if (x is not null && TryVolume(x, out var inVol) && TryVolume(result, out var outVol) && inVol != outVol)
                throw new ArgumentException($"Reshape: {Format(x)} has {inVol} elements; [{string.Join(", ", target)}] needs {outVol}.");
            return result;
        }
        result[inferred] = x is null ? Dim.Unknown : InferMinusOne(x, result, inferred, target);
        return result;
    }

    static Dim InferMinusOne(Dim[] x, Dim[] result, int inferred, long[] target)
    {
        // Cancel symbols and fixed sizes shared by input and output; what is left is the −1 dimension.
        long num = 1, den = 1;
        var symbols = new List<string>();
        foreach (var d in x)
        {
            if (d.Size is long s) num *= s;
            else if (d.Symbol is { } sym) symbols.Add(sym);
            else return Dim.Unknown;
        }
        for (int i = 0; i < result.Length; i++)
        {
            if (i == inferred) continue;
            var d = result[i];
            if (d.Size is long s) den *= s;
            else if (d.Symbol is { } sym && symbols.Remove(sym)) { }
            else return Dim.Unknown;
        }
        if (den == 0 || num % den != 0)
        {
            if (symbols.Count == 0) throw new ArgumentException($"Reshape: {Format(x)} cannot be viewed as [{string.Join(", ", target)}].");
            return Dim.Unknown;
        }
        long q = num / den;
        if (symbols.Count == 0) return q;
        if (symbols.Count == 1 && q == 1) return symbols[0];
        return Dim.Unknown;
    }

    static bool TryVolume(Dim[] shape, out long volume)
    {
        volume = 1;
        foreach (var d in shape)
        {
            if (d.Size is not long s) return false;
            volume *= s;
        }
        return true;
    }

    static Dim[]? ConcatShape(Dim[]?[] shapes, long axis)
    {
        if (shapes.Any(s => s is null)) return null;
        int rank = shapes[0]!.Length;
        if (shapes.Any(s => s!.Length != rank))
            throw new ArgumentException($"Concat: ranks differ ({string.Join(", ", shapes.Select(s => Format(s)))}).");
        long a = NormalizeAxis(axis, rank, "Concat");
        var result = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            if (i == a)
            {
                result[i] = shapes.All(s => s![i].IsFixed) ? shapes.Sum(s => s![i].Size!.Value) : Dim.Unknown;
                continue;
            }
            var dims = shapes.Select(s => s![i]).ToList();
            var fixedSizes = dims.Where(d => d.IsFixed).Select(d => d.Size!.Value).Distinct().ToList();
            if (fixedSizes.Count > 1)
                throw new ArgumentException($"Concat on axis {axis}: dimension {i} differs ({string.Join(", ", shapes.Select(s => Format(s)))}).");
            result[i] = fixedSizes.Count == 1 ? fixedSizes[0] : dims.Distinct().Count() == 1 ? dims[0] : Dim.Unknown;
        }
        return result;
    }

    static Dim[]? UnsqueezeShape(Dim[]? x, long[] axes)
    {
        if (x is null) return null;
        int rank = x.Length + axes.Length;
        var normalized = axes.Select(a => NormalizeAxis(a, rank, "Unsqueeze")).ToHashSet();
        if (normalized.Count != axes.Length) throw new ArgumentException($"Unsqueeze: repeated axes [{string.Join(", ", axes)}].");
        var result = new Dim[rank];
        int j = 0;
        for (int i = 0; i < rank; i++) result[i] = normalized.Contains(i) ? 1 : x[j++];
        return result;
    }

    static Dim[]? SqueezeShape(Dim[]? x, long[] axes)
    {
        if (x is null) return null;
        var normalized = axes.Select(a => NormalizeAxis(a, x.Length, "Squeeze")).ToHashSet();
        foreach (var a in normalized)
            if (x[a].IsFixed && x[a].Size != 1)
                throw new ArgumentException($"Squeeze: axis {a} of {Format(x)} has size {x[a]}, not 1.");
        return x.Where((_, i) => !normalized.Contains(i)).ToArray();
    }

    static Dim Product(IEnumerable<Dim> dims)
    {
        long p = 1;
        foreach (var d in dims)
        {
            if (d.Size is not long s) return Dim.Unknown;
            p *= s;
        }
        return p;
    }

    /// <summary>Output size of a convolution or pooling window along one axis (floor mode).</summary>
    static Dim WindowOutput(Dim input, long kernel, long stride, long padBegin, long padEnd, long dilation, string op)
    {
        if (input.Size is not long n) return Dim.Unknown;
        long span = dilation * (kernel - 1) + 1;
        long size = (n + padBegin + padEnd - span) / stride + 1;
        if (n + padBegin + padEnd < span)
            throw new ArgumentException($"{op}: a window of {span} does not fit an input of size {n} with padding {padBegin}+{padEnd}.");
        return size;
    }

    Dim[] RequireRank(Value x, int rank, string op)
    {
        var shape = Meta(x).Shape;
        if (shape is null) throw new ArgumentException($"{op}: the rank of '{x.Name}' is unknown; expected rank {rank}.");
        if (shape.Length != rank) throw new ArgumentException($"{op}: '{x.Name}' has shape {Format(shape)}; expected rank {rank}.");
        return shape;
    }

    void RequireDim(Value x, int axis, long expected, string op)
    {
        var shape = Meta(x).Shape;
        if (shape is null) return;
        int a = (int)NormalizeAxis(axis, shape.Length, op);
        if (shape[a].Size is long s && s != expected)
            throw new ArgumentException($"{op}: '{x.Name}' has shape {Format(shape)}; expected size {expected} on axis {axis}.");
    }

    void RequireFloat(Value x, string op)
    {
        var t = Meta(x).Type;
        if (t is not (ElementType.Float or ElementType.Float16 or ElementType.Double or ElementType.BFloat16))
            throw new ArgumentException($"{op}: '{x.Name}' is {t}; expected a floating-point tensor.");
    }
}
