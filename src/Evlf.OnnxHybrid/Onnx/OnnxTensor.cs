using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Conversions between ONNX <see cref="TensorProto"/> values (any of their storage fields) and plain
/// arrays or TorchSharp tensors. New tensors are always written as little-endian raw_data.
/// </summary>
public static class OnnxTensor
{
    public static long ElementCount(TensorProto t) => t.Dims.Aggregate(1L, (a, d) => a * d);

    public static int ElementSize(int dataType) => (DT)dataType switch
    {
        DT.Float or DT.Int32 or DT.Uint32 => 4,
        DT.Double or DT.Int64 or DT.Uint64 => 8,
        DT.Float16 or DT.Bfloat16 or DT.Int16 or DT.Uint16 => 2,
        DT.Int8 or DT.Uint8 or DT.Bool => 1,
        _ => throw new NotSupportedException($"ONNX tensor element type {(DT)dataType} is not supported."),
    };

    public static long ByteSize(TensorProto t) => ElementCount(t) * ElementSize(t.DataType);

    /// <summary>The tensor's values as little-endian bytes, whichever field holds them.</summary>
    public static byte[] ToRawBytes(TensorProto t)
    {
        if (!t.RawData.IsEmpty) return t.RawData.ToByteArray();
        long n = ElementCount(t);
        var dt = (DT)t.DataType;
        switch (dt)
        {
            case DT.Float: return MemoryMarshal.AsBytes(t.FloatData.ToArray().AsSpan()).ToArray();
            case DT.Double: return MemoryMarshal.AsBytes(t.DoubleData.ToArray().AsSpan()).ToArray();
            case DT.Int64: return MemoryMarshal.AsBytes(t.Int64Data.ToArray().AsSpan()).ToArray();
            case DT.Uint64: return MemoryMarshal.AsBytes(t.Uint64Data.ToArray().AsSpan()).ToArray();
            case DT.Uint32: return MemoryMarshal.AsBytes(t.Uint64Data.Select(v => (uint)v).ToArray().AsSpan()).ToArray();
            case DT.Int32: return MemoryMarshal.AsBytes(t.Int32Data.ToArray().AsSpan()).ToArray();
            case DT.Int16: return MemoryMarshal.AsBytes(t.Int32Data.Select(v => (short)v).ToArray().AsSpan()).ToArray();
            case DT.Uint16 or DT.Float16 or DT.Bfloat16: return MemoryMarshal.AsBytes(t.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()).ToArray();
            case DT.Int8: return t.Int32Data.Select(v => (byte)(sbyte)v).ToArray();
            case DT.Uint8 or DT.Bool: return t.Int32Data.Select(v => (byte)v).ToArray();
        }
        if (n == 0) return Array.Empty<byte>();
        throw new NotSupportedException($"ONNX tensor '{t.Name}' has unsupported element type {dt}.");
    }

    public static void ClearData(TensorProto t)
    {
        t.RawData = ByteString.Empty;
        t.FloatData.Clear();
        t.DoubleData.Clear();
        t.Int32Data.Clear();
        t.Int64Data.Clear();
        t.Uint64Data.Clear();
        t.StringData.Clear();
        t.ExternalData.Clear();
        t.DataLocation = TensorProto.Types.DataLocation.Default;
    }

    public static long[] Shape(TensorProto t) => t.Dims.ToArray();

    /// <summary>Values converted to float32 (from float16/bfloat16/double/integers as needed).</summary>
    public static float[] ToFloats(TensorProto t)
    {
        using var scope = NewDisposeScope();
        return ToTorch(t).to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    public static long[] ToInt64s(TensorProto t)
    {
        using var scope = NewDisposeScope();
        return ToTorch(t).to(ScalarType.Int64).contiguous().data<long>().ToArray();
    }

    public static TensorProto FromFloats(string name, long[] dims, ReadOnlySpan<float> values) =>
        FromBytes(name, DT.Float, dims, MemoryMarshal.AsBytes(values));

    public static TensorProto FromInt64s(string name, long[] dims, ReadOnlySpan<long> values) =>
        FromBytes(name, DT.Int64, dims, MemoryMarshal.AsBytes(values));

    static TensorProto FromBytes(string name, DT type, long[] dims, ReadOnlySpan<byte> bytes)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (count * ElementSize((int)type) != bytes.Length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(",", dims)}] needs {count} values of {type}; got {bytes.Length} bytes.");
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    public static ScalarType ToScalarType(int dataType) => (DT)dataType switch
    {
        DT.Float => ScalarType.Float32,
        DT.Double => ScalarType.Float64,
        DT.Float16 => ScalarType.Float16,
        DT.Bfloat16 => ScalarType.BFloat16,
        DT.Int64 => ScalarType.Int64,
        DT.Int32 => ScalarType.Int32,
        DT.Int16 => ScalarType.Int16,
        DT.Int8 => ScalarType.Int8,
        DT.Uint8 => ScalarType.Byte,
        DT.Bool => ScalarType.Bool,
        // libtorch has no unsigned 16/32/64-bit arithmetic worth trusting; widen to int64.
        DT.Uint16 or DT.Uint32 or DT.Uint64 => ScalarType.Int64,
        _ => throw new NotSupportedException($"ONNX element type {(DT)dataType} has no TorchSharp equivalent."),
    };

    public static int ToOnnxType(ScalarType type) => (int)(type switch
    {
        ScalarType.Float32 => DT.Float,
        ScalarType.Float64 => DT.Double,
        ScalarType.Float16 => DT.Float16,
        ScalarType.BFloat16 => DT.Bfloat16,
        ScalarType.Int64 => DT.Int64,
        ScalarType.Int32 => DT.Int32,
        ScalarType.Int16 => DT.Int16,
        ScalarType.Int8 => DT.Int8,
        ScalarType.Byte => DT.Uint8,
        ScalarType.Bool => DT.Bool,
        _ => throw new NotSupportedException($"TorchSharp type {type} has no ONNX equivalent."),
    });

    /// <summary>A new CPU tensor holding a copy of the values.</summary>
    public static Tensor ToTorch(TensorProto t)
    {
        var dt = (DT)t.DataType;
        long[] shape = Shape(t);
        byte[] raw = ToRawBytes(t);
        ScalarType target = ToScalarType(t.DataType);
        if (dt is DT.Uint16 or DT.Uint32 or DT.Uint64)
        {
            var widened = dt switch
            {
                DT.Uint16 => MemoryMarshal.Cast<byte, ushort>(raw).ToArray().Select(v => (long)v).ToArray(),
                DT.Uint32 => MemoryMarshal.Cast<byte, uint>(raw).ToArray().Select(v => (long)v).ToArray(),
                _ => MemoryMarshal.Cast<byte, ulong>(raw).ToArray().Select(v => (long)v).ToArray(),
            };
            return tensor(widened, dtype: ScalarType.Int64).reshape(shape);
        }
        var result = empty(shape, dtype: target);
        if (raw.Length > 0) result.bytes = raw;
        return result;
    }

    /// <summary>An ONNX tensor with a copy of a TorchSharp tensor's values (raw_data).</summary>
    public static TensorProto FromTorch(string name, Tensor value)
    {
        using var c = value.detach().cpu().contiguous();
        var t = new TensorProto { Name = name, DataType = ToOnnxType(c.dtype), RawData = ByteString.CopyFrom(c.bytes) };
        t.Dims.AddRange(c.shape);
        return t;
    }
}
