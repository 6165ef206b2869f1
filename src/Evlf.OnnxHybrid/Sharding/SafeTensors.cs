using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Sharding;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face's, as its format description defines it): an 8-byte
/// little-endian header length, a UTF-8 JSON header naming each tensor's dtype, shape and byte range, then the raw
/// little-endian tensor bytes. Shard outputs use it so that Python reads them with <c>safetensors</c> (or twenty lines
/// of its own). The header is written with the tensors in name order, padded with spaces to a multiple of 8 bytes.
/// </summary>
public static class SafeTensors
{
    static readonly Dictionary<ScalarType, (string Name, int Size)> Types = new()
    {
        [ScalarType.Float32] = ("F32", 4), [ScalarType.Float64] = ("F64", 8),
        [ScalarType.Int64] = ("I64", 8), [ScalarType.Int32] = ("I32", 4), [ScalarType.Byte] = ("U8", 1), [ScalarType.Bool] = ("BOOL", 1),
    };

    /// <summary>Writes <paramref name="tensors"/> (any of F32, F64, I64, I32, U8, BOOL) and string <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var buffers = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' cannot name a tensor.", nameof(tensors));
            if (!Types.TryGetValue(tensor.dtype, out var type)) throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}; safetensors here takes {string.Join(", ", Types.Keys)}.", nameof(tensors));
            var bytes = Bytes(tensor.cpu().contiguous());
            header[name] = new JsonObject
            {
                ["dtype"] = type.Name,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            buffers.Add(bytes);
            offset += bytes.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var b in buffers) stream.Write(b);
    }

    /// <summary>The tensors of the safetensors file at <paramref name="path"/>; throws <see cref="InvalidDataException"/> naming the file when it is not one.</summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>The tensors of the safetensors file at <paramref name="path"/>, and its string metadata.</summary>
    public static Dictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        var file = File.ReadAllBytes(path);
        InvalidDataException Bad(string what) => new($"'{path}' is not a safetensors file: {what}.");
        if (file.Length < 8) throw Bad("shorter than its 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)(file.Length - 8)) throw Bad($"its header length {headerLength} runs past the file's {file.Length} bytes");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))?.AsObject() ?? throw Bad("its header is not a JSON object");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw Bad("its header is not JSON");
        }
        long dataStart = 8 + (long)headerLength;
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node?.AsObject() ?? []) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            var entry = node as JsonObject ?? throw Bad($"tensor '{name}' has no description");
            string dtype = entry["dtype"]?.GetValue<string>() ?? throw Bad($"tensor '{name}' has no dtype");
            var match = Types.Where(t => t.Value.Name == dtype).ToList();
            if (match.Count == 0) throw Bad($"tensor '{name}' has dtype {dtype}, which evlf does not read");
            var (scalar, size) = (match[0].Key, match[0].Value.Size);
            var shape = entry["shape"]?.AsArray().Select(d => d!.GetValue<long>()).ToArray() ?? throw Bad($"tensor '{name}' has no shape");
            var offsets = entry["data_offsets"]?.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (offsets is not [long begin, long end] || begin < 0 || end - begin != count * size || dataStart + end > file.Length)
                throw Bad($"tensor '{name}' has byte range [{string.Join(", ", offsets ?? [])}] for {count} values of {size} bytes");
            tensors[name] = FromBytes(file.AsSpan((int)(dataStart + begin), (int)(end - begin)), scalar, shape);
        }
        return tensors;
    }

    static byte[] Bytes(Tensor t)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors is little-endian; this machine is not.");
        if (t.numel() == 0) return [];
        return t.dtype switch
        {
            ScalarType.Float32 => MemoryMarshal.AsBytes(t.data<float>().ToArray().AsSpan()).ToArray(),
            ScalarType.Float64 => MemoryMarshal.AsBytes(t.data<double>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int64 => MemoryMarshal.AsBytes(t.data<long>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int32 => MemoryMarshal.AsBytes(t.data<int>().ToArray().AsSpan()).ToArray(),
            ScalarType.Byte => t.data<byte>().ToArray(),
            ScalarType.Bool => t.to(ScalarType.Byte).data<byte>().ToArray(),
            _ => throw new ArgumentException($"dtype {t.dtype}"),
        };
    }

    static Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType type, long[] shape) => type switch
    {
        ScalarType.Float32 => tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape),
        ScalarType.Float64 => tensor(MemoryMarshal.Cast<byte, double>(bytes).ToArray(), shape),
        ScalarType.Int64 => tensor(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape),
        ScalarType.Int32 => tensor(MemoryMarshal.Cast<byte, int>(bytes).ToArray(), shape),
        ScalarType.Byte => tensor(bytes.ToArray(), shape),
        _ => tensor(bytes.ToArray(), shape).to(ScalarType.Bool),
    };
}
