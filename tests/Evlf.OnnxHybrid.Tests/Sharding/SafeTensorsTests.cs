using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Sharding;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Sharding;

/// <summary>
/// The safetensors reader against a file written from the format description by tools/reference/safetensors_reference.py
/// (numpy and the standard library), and the writer against the format's layout and the reader.
/// </summary>
public class SafeTensorsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-safetensors-").FullName;
    static readonly string Vectors = Path.Combine(AppContext.BaseDirectory, "Sharding", "Vectors");

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void ReadsTheReferenceFile()
    {
        var tensors = SafeTensors.Load(Path.Combine(Vectors, "reference.safetensors"), out var metadata);
        Assert.Equal("tools/reference/safetensors_reference.py", metadata["writer"]);
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Vectors, "reference.json")))!.AsObject();
        Assert.Equal(expected.Select(e => e.Key).Order(), tensors.Keys.Order());
        var types = new Dictionary<string, ScalarType>
        {
            ["F32"] = ScalarType.Float32, ["F64"] = ScalarType.Float64, ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32,
            ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
        };
        foreach (var (name, node) in expected)
        {
            var t = tensors[name];
            Assert.Equal(types[(string)node!["dtype"]!], t.dtype);
            Assert.Equal(node["shape"]!.AsArray().Select(d => (long)d!), t.shape);
            var values = node["values"]!.AsArray().Select(v => (double)v!).ToArray();
            Assert.Equal(values, t.to(ScalarType.Float64).flatten().data<double>().ToArray());
        }
    }

    [Fact]
    public void WritesTheFormatsLayoutAndReadsItBack()
    {
        var tensors = SafeTensors.Load(Path.Combine(Vectors, "reference.safetensors"));
        string path = Path.Combine(root, "copy.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["part"] = "2" });

        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd(' '))!.AsObject();
        Assert.Equal("2", (string?)header["__metadata__"]!["part"]);
        // Tensors in name order, their bytes back to back from the end of the header to the end of the file.
        long next = 0;
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            var offsets = header[name]!["data_offsets"]!.AsArray().Select(o => (long)o!).ToArray();
            Assert.Equal(next, offsets[0]);
            next = offsets[1];
        }
        Assert.Equal(bytes.LongLength - 8 - (long)headerLength, next);

        var back = SafeTensors.Load(path, out var metadata);
        Assert.Equal("2", metadata["part"]);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, back[name].dtype);
            Assert.Equal(t.shape, back[name].shape);
            Assert.Equal(t.to(ScalarType.Float64).flatten().data<double>().ToArray(), back[name].to(ScalarType.Float64).flatten().data<double>().ToArray());
        }
        // The same tensors give the same bytes.
        SafeTensors.Save(Path.Combine(root, "again.safetensors"), back, new Dictionary<string, string> { ["part"] = "2" });
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(root, "again.safetensors")));
    }

    [Fact]
    public void ADamagedFileIsInvalidDataNamingIt()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Vectors, "reference.safetensors"));
        string cut = Path.Combine(root, "cut.safetensors");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 3)]);
        Assert.Contains("cut.safetensors", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(cut)).Message);
        string huge = Path.Combine(root, "huge.safetensors");
        var header = bytes.ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(header, 1UL << 40);
        File.WriteAllBytes(huge, header);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(huge));
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(Path.Combine(Vectors, "reference.json")));
    }
}
