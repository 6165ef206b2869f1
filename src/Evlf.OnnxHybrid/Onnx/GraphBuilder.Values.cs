namespace Evlf.OnnxHybrid.Onnx;

/// <summary>A tensor flowing through a graph that a <see cref="GraphBuilder"/> is building: its name in the
/// graph. Its element type and static shape are kept by the builder (<see cref="GraphBuilder.TypeOf"/>,
/// <see cref="GraphBuilder.ShapeOf"/>).</summary>
public readonly record struct Value(string Name)
{
    public override string ToString() => Name;
}

/// <summary>Element types a graph value may have; the numbers are ONNX's <c>TensorProto.DataType</c>.</summary>
public enum ElementType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    BFloat16 = 16,
}

/// <summary>One dimension of a static shape: a fixed size, a symbol shared by every value with the same
/// size (<c>"batch"</c>), or unknown (<c>default</c>). Converts implicitly from integers and strings, so
/// shapes read as <c>("batch", 4, 8, 8)</c>.</summary>
public readonly record struct Dim
{
    Dim(long? size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or null for a symbolic or unknown dimension.</summary>
    public long? Size { get; }

    /// <summary>The symbol, or null for a fixed or unknown dimension.</summary>
    public string? Symbol { get; }

    public static Dim Unknown => default;

    public bool IsFixed => Size.HasValue;

    public bool IsKnown => Size.HasValue || Symbol is not null;

    public static Dim Fixed(long size) =>
        size >= 0 ? new(size, null) : throw new ArgumentOutOfRangeException(nameof(size), size, "A dimension's size cannot be negative.");

    public static Dim Symbolic(string symbol) =>
        string.IsNullOrWhiteSpace(symbol) ? throw new ArgumentException("A symbolic dimension needs a non-empty name.", nameof(symbol)) : new(null, symbol);

    public static implicit operator Dim(long size) => Fixed(size);

    public static implicit operator Dim(int size) => Fixed(size);

    public static implicit operator Dim(string symbol) => Symbolic(symbol);

    public override string ToString() => Size?.ToString() ?? Symbol ?? "?";
}
