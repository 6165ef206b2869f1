using Onnx;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Tensor ops with PyTorch-like meaning, one ONNX node each (or a few, where noted).</summary>
public sealed partial class GraphBuilder
{
    // ---- constants ------------------------------------------------------------------------------------

    /// <summary>A float32 scalar (rank 0) as a Constant node.</summary>
    public Value Constant(float value) => Constant(new[] { value }, Array.Empty<long>());

    /// <summary>A float32 tensor as a Constant node (not a parameter: never trained, never in the state dict).</summary>
    public Value Constant(ReadOnlySpan<float> data, params long[] dims) =>
        ConstantNode(OnnxTensor.FromFloats("", dims, data));

    /// <summary>An int64 tensor as a Constant node.</summary>
    public Value Constant(ReadOnlySpan<long> data, params long[] dims) =>
        ConstantNode(OnnxTensor.FromInt64s("", dims, data));

    /// <summary>A 1-D int64 Constant (shapes, axes, split sizes).</summary>
    public Value Int64Vector(params long[] data) => Constant(data.AsSpan(), data.Length);

    /// <summary>A scalar Constant of <paramref name="type"/> (float or integer types).</summary>
    public Value Scalar(double value, ElementType type)
    {
        var t = type switch
        {
            ElementType.Float => OnnxTensor.FromFloats("", Array.Empty<long>(), new[] { (float)value }),
            ElementType.Int64 when value == Math.Floor(value) => OnnxTensor.FromInt64s("", Array.Empty<long>(), new[] { checked((long)value) }),
            ElementType.Int64 => throw new ArgumentException($"Scalar {value} is not an integer; an Int64 constant cannot hold it."),
            ElementType.Double => DoubleScalar(value),
            _ => throw new ArgumentException($"Scalar constants of type {type} are not supported; use Float, Double or Int64 (then Cast)."),
        };
        return ConstantNode(t);
    }

    static TensorProto DoubleScalar(double value)
    {
        var t = new TensorProto { DataType = (int)TensorProto.Types.DataType.Double };
        t.DoubleData.Add(value);
        return t;
    }

    Value ConstantNode(TensorProto tensor)
    {
        tensor.Name = "";
        var shape = tensor.Dims.Select(d => (Dim)d).ToArray();
        return Emit1("Constant", Array.Empty<Value?>(), (ElementType)tensor.DataType, shape, TensorAttr("value", tensor));
    }

    // ---- elementwise ----------------------------------------------------------------------------------

    public Value Add(Value a, Value b) => Binary("Add", a, b);

    public Value Sub(Value a, Value b) => Binary("Sub", a, b);

    public Value Mul(Value a, Value b) => Binary("Mul", a, b);

    public Value Div(Value a, Value b) => Binary("Div", a, b);

    /// <summary>a + scalar, the scalar taking a's element type.</summary>
    public Value Add(Value a, double b) => Binary("Add", a, Scalar(b, TypeOf(a)));

    public Value Sub(Value a, double b) => Binary("Sub", a, Scalar(b, TypeOf(a)));

    public Value Mul(Value a, double b) => Binary("Mul", a, Scalar(b, TypeOf(a)));

    public Value Div(Value a, double b) => Binary("Div", a, Scalar(b, TypeOf(a)));

    /// <summary>x ** exponent (ONNX Pow with a scalar exponent of x's type).</summary>
    public Value Pow(Value x, double exponent) => Binary("Pow", x, Scalar(exponent, TypeOf(x)));

    Value Binary(string op, Value a, Value b)
    {
        var ma = Meta(a);
        var mb = Meta(b);
        if (ma.Type != mb.Type)
            throw new ArgumentException($"{op}: '{a.Name}' is {ma.Type} and '{b.Name}' is {mb.Type}; Cast one of them first.");
        return Emit1(op, new Value?[] { a, b }, ma.Type, BroadcastShapes(op, ma.Shape, mb.Shape));
    }

    public Value Neg(Value x) => Unary("Neg", x);

    public Value Exp(Value x) => Unary("Exp", x);

    public Value Sqrt(Value x) => Unary("Sqrt", x);

    public Value Sin(Value x) => Unary("Sin", x);

    public Value Cos(Value x) => Unary("Cos", x);

    public Value Erf(Value x) => Unary("Erf", x);

    Value Unary(string op, Value x, params AttributeProto[] attributes)
    {
        var m = Meta(x);
        return Emit1(op, new Value?[] { x }, m.Type, m.Shape, attributes);
    }

    // ---- linear algebra ---------------------------------------------------------------------------------

    /// <summary>torch.matmul semantics (batched, broadcasting).</summary>
    public Value MatMul(Value a, Value b)
    {
        var ma = Meta(a);
        var mb = Meta(b);
        if (ma.Type != mb.Type) throw new ArgumentException($"MatMul: '{a.Name}' is {ma.Type} and '{b.Name}' is {mb.Type}.");
        return Emit1("MatMul", new Value?[] { a, b }, ma.Type, MatMulShape(ma.Shape, mb.Shape));
    }

    /// <summary>
    /// ONNX Gemm on matrices: a·bᵀ + c (<paramref name="transB"/>) or a·b + c, c broadcasting over the rows (a bias).
    /// One call that adds the bias inside the GEMM, where MatMul + Add makes a second pass over the output.
    /// </summary>
    public Value Gemm(Value a, Value b, Value? c = null, bool transB = false)
    {
        var ma = RequireRank(a, 2, "Gemm A");
        var mb = RequireRank(b, 2, "Gemm B");
        if (TypeOf(a) != TypeOf(b)) throw new ArgumentException($"Gemm: '{a.Name}' is {TypeOf(a)} and '{b.Name}' is {TypeOf(b)}.");
        Dim inner = transB ? mb[1] : mb[0], cols = transB ? mb[0] : mb[1];
        if (ma[1].IsFixed && inner.IsFixed && ma[1] != inner)
            throw new ArgumentException($"Gemm: A {Format(ma)} and B {Format(mb)}{(transB ? "ᵀ" : "")} do not chain.");
        return Emit1("Gemm", new Value?[] { a, b, c }, TypeOf(a), new[] { ma[0], cols }, IntAttr("transB", transB ? 1 : 0));
    }

    /// <summary>Softmax along one axis (default the last).</summary>
    public Value Softmax(Value x, long axis = -1)
    {
        var shape = Meta(x).Shape;
        if (shape is not null) NormalizeAxis(axis, shape.Length, "Softmax");
        return Unary("Softmax", x, IntAttr("axis", axis));
    }

    // ---- shape manipulation -----------------------------------------------------------------------------

    /// <summary>ONNX Reshape: 0 copies the input's dimension (so a dynamic batch passes through), −1 is inferred.</summary>
    public Value Reshape(Value x, params long[] shape)
    {
        var m = Meta(x);
        return Emit1("Reshape", new Value?[] { x, Int64Vector(shape) }, m.Type, ReshapeShape(m.Shape, shape));
    }

    /// <summary>Reshape to a shape computed in the graph (a 1-D int64 value, e.g. from <see cref="Shape"/>).</summary>
    public Value Reshape(Value x, Value shape)
    {
        var ms = Meta(shape);
        if (ms.Type != ElementType.Int64) throw new ArgumentException($"Reshape: the shape '{shape.Name}' is {ms.Type}; expected Int64.");
        Dim[]? result = ms.Shape is [{ Size: long rank }] ? Enumerable.Repeat(Dim.Unknown, (int)rank).ToArray() : null;
        return Emit1("Reshape", new Value?[] { x, shape }, Meta(x).Type, result);
    }

    /// <summary>Permutes axes (torch.permute).</summary>
    public Value Transpose(Value x, params long[] perm)
    {
        var m = Meta(x);
        return Emit1("Transpose", new Value?[] { x }, m.Type, TransposeShape(m.Shape, perm), IntsAttr("perm", perm));
    }

    /// <summary>torch.cat along <paramref name="axis"/>.</summary>
    public Value Concat(long axis, params Value[] xs)
    {
        if (xs.Length == 0) throw new ArgumentException("Concat needs at least one value.");
        var metas = xs.Select(Meta).ToArray();
        if (metas.Any(m => m.Type != metas[0].Type))
            throw new ArgumentException($"Concat: element types differ ({string.Join(", ", metas.Select(m => m.Type))}).");
        var shape = ConcatShape(metas.Select(m => m.Shape).ToArray(), axis);
        return Emit1("Concat", xs.Select(v => (Value?)v).ToArray(), metas[0].Type, shape, IntAttr("axis", axis));
    }

    /// <summary>Splits along <paramref name="axis"/> into parts of the given sizes (ONNX Split, sizes as an input).</summary>
    public Value[] Split(Value x, long axis, params long[] sizes)
    {
        var m = Meta(x);
        if (sizes.Length == 0 || sizes.Any(s => s <= 0)) throw new ArgumentException($"Split: sizes must be positive; got [{string.Join(", ", sizes)}].");
        Dim[]?[] shapes = sizes.Select(_ => (Dim[]?)null).ToArray();
        if (m.Shape is not null)
        {
            long a = NormalizeAxis(axis, m.Shape.Length, "Split");
            if (m.Shape[a].Size is long n && n != sizes.Sum())
                throw new ArgumentException($"Split: sizes [{string.Join(", ", sizes)}] do not add up to {n}, axis {axis} of {Format(m.Shape)}.");
            shapes = sizes.Select(s => { var d = m.Shape.ToArray(); d[a] = s; return (Dim[]?)d; }).ToArray();
        }
        return Emit("Split", new Value?[] { x, Int64Vector(sizes) }, shapes.Select(s => (m.Type, s)).ToArray(), IntAttr("axis", axis));
    }

    /// <summary>torch.chunk into <paramref name="chunks"/> equal parts; the axis' size must be known and divisible.</summary>
    public Value[] Chunk(Value x, int chunks, long axis)
    {
        var shape = Meta(x).Shape;
        if (chunks <= 0) throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "Chunk needs at least one part.");
        if (shape is null) throw new ArgumentException($"Chunk: the shape of '{x.Name}' is unknown.");
        long a = NormalizeAxis(axis, shape.Length, "Chunk");
        if (shape[a].Size is not long n || n % chunks != 0)
            throw new ArgumentException($"Chunk: axis {axis} of '{x.Name}' {Format(shape)} must have a known size divisible by {chunks}.");
        return Split(x, axis, Enumerable.Repeat(n / chunks, chunks).ToArray());
    }

    /// <summary>torch.Tensor[... , start:end] along the given axes (ONNX Slice, opset 13 form).</summary>
    public Value Slice(Value x, long[] axes, long[] starts, long[] ends)
    {
        if (axes.Length != starts.Length || axes.Length != ends.Length)
            throw new ArgumentException("Slice: axes, starts and ends must have the same length.");
        var m = Meta(x);
        Dim[]? shape = m.Shape?.ToArray();
        if (shape is not null)
            for (int i = 0; i < axes.Length; i++)
            {
                long a = NormalizeAxis(axes[i], shape.Length, "Slice");
                if (shape[a].Size is long n)
                {
                    long s = Math.Clamp(starts[i] < 0 ? starts[i] + n : starts[i], 0, n);
                    long e = Math.Clamp(ends[i] < 0 ? ends[i] + n : ends[i], 0, n);
                    shape[a] = Math.Max(0, e - s);
                }
                else shape[a] = Dim.Unknown;
            }
        return Emit1("Slice", new Value?[] { x, Int64Vector(starts), Int64Vector(ends), Int64Vector(axes) }, m.Type, shape);
    }

    /// <summary>
    /// torch.flatten(x, startDim): dimensions from <paramref name="startDim"/> to the last are merged.
    /// startDim 1 is ONNX Flatten(axis=1); other start dims are a Reshape that copies the leading dims.
    /// </summary>
    public Value Flatten(Value x, int startDim = 1)
    {
        var m = Meta(x);
        if (m.Shape is null) throw new ArgumentException($"Flatten: the rank of '{x.Name}' is unknown.");
        int rank = m.Shape.Length;
        int start = (int)NormalizeAxis(startDim, rank, "Flatten");
        if (start == 1)
            return Emit1("Flatten", new Value?[] { x }, m.Type, new[] { m.Shape[0], Product(m.Shape.Skip(1)) }, IntAttr("axis", 1));
        var target = Enumerable.Repeat(0L, start).Append(-1L).ToArray();
        return Reshape(x, target);
    }

    /// <summary>Inserts size-1 axes (axes as an input, opset 13 form).</summary>
    public Value Unsqueeze(Value x, params long[] axes)
    {
        var m = Meta(x);
        return Emit1("Unsqueeze", new Value?[] { x, Int64Vector(axes) }, m.Type, UnsqueezeShape(m.Shape, axes));
    }

    /// <summary>Removes size-1 axes (axes as an input, opset 13 form).</summary>
    public Value Squeeze(Value x, params long[] axes)
    {
        if (axes.Length == 0) throw new ArgumentException("Squeeze: name the axes to remove (removing all size-1 axes breaks with a batch of 1).");
        var m = Meta(x);
        return Emit1("Squeeze", new Value?[] { x, Int64Vector(axes) }, m.Type, SqueezeShape(m.Shape, axes));
    }

    /// <summary>The runtime shape of <paramref name="x"/> as a 1-D int64 value, optionally dims [start, end).</summary>
    public Value Shape(Value x, long? start = null, long? end = null)
    {
        var m = Meta(x);
        var attributes = new List<AttributeProto>();
        if (start is long s) attributes.Add(IntAttr("start", s));
        if (end is long e) attributes.Add(IntAttr("end", e));
        Dim[]? shape = null;
        if (m.Shape is not null)
        {
            int rank = m.Shape.Length;
            long s0 = Math.Clamp(start is long a ? (a < 0 ? a + rank : a) : 0, 0, rank);
            long e0 = Math.Clamp(end is long b ? (b < 0 ? b + rank : b) : rank, 0, rank);
            shape = new Dim[] { Math.Max(0, e0 - s0) };
        }
        return Emit1("Shape", new Value?[] { x }, ElementType.Int64, shape, attributes.ToArray());
    }

    /// <summary>torch.index_select-like gather along an axis: output shape = x[..axis] + indices.shape + x[axis+1..].</summary>
    public Value Gather(Value x, Value indices, long axis = 0)
    {
        var m = Meta(x);
        var mi = Meta(indices);
        if (mi.Type is not (ElementType.Int64 or ElementType.Int32))
            throw new ArgumentException($"Gather: indices '{indices.Name}' are {mi.Type}; expected Int64 or Int32.");
        Dim[]? shape = null;
        if (m.Shape is not null && mi.Shape is not null)
        {
            long a = NormalizeAxis(axis, m.Shape.Length, "Gather");
            shape = m.Shape.Take((int)a).Concat(mi.Shape).Concat(m.Shape.Skip((int)a + 1)).ToArray();
        }
        return Emit1("Gather", new Value?[] { x, indices }, m.Type, shape, IntAttr("axis", axis));
    }

    /// <summary>x[..., index, ...] along <paramref name="axis"/> (a scalar index: the axis disappears), e.g. the batch size from <see cref="Shape"/>.</summary>
    public Value Gather(Value x, long index, long axis = 0) =>
        Gather(x, Constant(new[] { index }.AsSpan(), Array.Empty<long>()), axis);

    /// <summary>Converts the element type.</summary>
    public Value Cast(Value x, ElementType to)
    {
        var m = Meta(x);
        return Emit1("Cast", new Value?[] { x }, to, m.Shape, IntAttr("to", (long)to));
    }
}
