using Google.Protobuf;
using Onnx;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// An ONNX model in memory together with where it came from. Loading resolves external-data tensors
/// (models over 2 GB keep their weights beside the .onnx file) into memory and remembers where each one
/// lived, so <see cref="Save"/> writes them back the same way: a modified copy differs from the original
/// only where it was modified.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Initializers above this size are written as external data when a model's weights exceed 2 GB
    /// or when the caller asks for it (protobuf messages cannot exceed 2 GB).</summary>
    public const long DefaultExternalThresholdBytes = 1024;

    const long ProtobufLimitBytes = 2L * 1024 * 1024 * 1024 - 64 * 1024 * 1024;

    readonly Dictionary<string, string> externalLocations;

    OnnxModel(ModelProto proto, string? path, Dictionary<string, string> externalLocations)
    {
        Proto = proto;
        Path = path;
        this.externalLocations = externalLocations;
    }

    /// <summary>The protobuf message; every tensor's data is in memory.</summary>
    public ModelProto Proto { get; }

    public GraphProto Graph => Proto.Graph;

    /// <summary>The file this model was loaded from, or null for a model built in memory.</summary>
    public string? Path { get; }

    /// <summary>Initializer name → external-data file (relative) it was stored in when loaded.</summary>
    public IReadOnlyDictionary<string, string> ExternalLocations => externalLocations;

    /// <summary>The highest opset imported for the default ONNX domain.</summary>
    public long Opset => Proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    public static OnnxModel FromProto(ModelProto proto) => new(proto, null, new());

    /// <summary>A model with a different message but this one's origin and external-data layout (for write-back).</summary>
    public OnnxModel WithProto(ModelProto proto) => new(proto, Path, new Dictionary<string, string>(externalLocations));

    /// <summary>
    /// Reads an .onnx file; missing, empty, truncated or non-ONNX files are user errors, and so are external-data
    /// files that lie outside the model's folder (links followed) or do not hold the bytes a tensor needs.
    /// </summary>
    public static OnnxModel Load(string path)
    {
        if (Directory.Exists(path))
            throw new UserInputException($"ONNX model '{path}' is a folder; expected an .onnx file.");
        var status = PathStatus.RequireFile(path, "ONNX model");
        if (status.Size == 0)
            throw new UserInputException($"ONNX model '{path}' is empty (0 bytes); expected a serialized ONNX ModelProto.");

        ModelProto proto;
        try
        {
            using var stream = File.OpenRead(path);
            var input = new CodedInputStream(stream);
            proto = ModelProto.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            string why = e.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("ended unexpectedly", StringComparison.OrdinalIgnoreCase)
                ? "it ends in the middle of a record, so it is truncated"
                : "it is not a serialized ONNX ModelProto";
            throw new UserInputException($"ONNX model '{path}' could not be read: {why} ({status.Size} bytes).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"ONNX model '{path}' could not be read: {e.Message}", e);
        }
        if (proto.Graph is null || proto.IrVersion == 0 || (proto.Graph.Node.Count == 0 && proto.Graph.Output.Count == 0))
            throw new UserInputException($"ONNX model '{path}' holds no graph (IR version {proto.IrVersion}, {proto.Graph?.Node.Count ?? 0} nodes); expected an ONNX model.");

        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var locations = new Dictionary<string, string>();
        foreach (var t in AllTensors(proto.Graph))
        {
            CheckShape(t, path);
            if (t.DataLocation != TensorProto.Types.DataLocation.External) continue;
            locations[t.Name] = ReadExternal(t, dir, path);
        }
        return new OnnxModel(proto, System.IO.Path.GetFullPath(path), locations);
    }

    /// <summary>
    /// Writes the model atomically (temporary name, then rename). Tensors that were external when loaded
    /// stay external under the same relative file name; when <paramref name="forceExternalData"/> is set,
    /// or the weights would not fit in one protobuf message, every initializer of at least
    /// <paramref name="externalThresholdBytes"/> goes to <c>&lt;file&gt;.data</c>.
    /// </summary>
    public void Save(string path, bool forceExternalData = false, long externalThresholdBytes = DefaultExternalThresholdBytes)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(dir);
        string defaultLocation = System.IO.Path.GetFileName(fullPath) + ".data";

        long totalBytes = Graph.Initializer.Sum(t => (long)t.RawData.Length + t.FloatData.Count * 4L + t.Int64Data.Count * 8L + t.DoubleData.Count * 8L + t.Int32Data.Count * 4L);
        bool externalizeLarge = forceExternalData || totalBytes > ProtobufLimitBytes;

        var plan = new Dictionary<TensorProto, string>();
        foreach (var t in Graph.Initializer)
        {
            if (externalLocations.TryGetValue(t.Name, out var loc)) plan[t] = loc;
            else if (externalizeLarge && OnnxTensor.ByteSize(t) >= externalThresholdBytes) plan[t] = defaultLocation;
        }

        var copy = Proto.Clone();
        var copyByName = copy.Graph.Initializer.ToDictionary(t => t.Name);
        var writers = new Dictionary<string, (FileStream Stream, string TempPath, string FinalPath)>();
        try
        {
            foreach (var (tensor, location) in plan)
            {
                if (!writers.TryGetValue(location, out var w))
                {
                    // Written where a loaded model said its data lived: that must stay in the target folder too.
                    string final = ConfinedPath.Resolve(dir, location, $"ONNX model '{fullPath}': external data file");
                    string tmp = final + ".tmp-" + Environment.ProcessId;
                    w = (new FileStream(tmp, FileMode.Create, FileAccess.Write), tmp, final);
                    writers[location] = w;
                }
                byte[] bytes = OnnxTensor.ToRawBytes(tensor);
                // Align each tensor to 4 KiB as onnx's external-data writer does, so readers may memory-map.
                long pad = (4096 - w.Stream.Position % 4096) % 4096;
                if (pad > 0) w.Stream.Write(new byte[pad]);
                long offset = w.Stream.Position;
                w.Stream.Write(bytes);

                var target = copyByName[tensor.Name];
                OnnxTensor.ClearData(target);
                target.DataLocation = TensorProto.Types.DataLocation.External;
                target.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
                target.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
                target.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.LongLength.ToString() });
            }
            foreach (var (location, w) in writers)
            {
                w.Stream.Dispose();
                File.Move(w.TempPath, w.FinalPath, overwrite: true);
            }
            writers.Clear();

            string tmpModel = fullPath + ".tmp-" + Environment.ProcessId;
            using (var stream = new FileStream(tmpModel, FileMode.Create, FileAccess.Write))
                copy.WriteTo(stream);
            File.Move(tmpModel, fullPath, overwrite: true);
        }
        finally
        {
            foreach (var w in writers.Values)
            {
                w.Stream.Dispose();
                File.Delete(w.TempPath);
            }
        }
    }

    /// <summary>Every tensor stored in the graph: initializers and Constant node values, subgraphs included.</summary>
    public static IEnumerable<TensorProto> AllTensors(GraphProto graph)
    {
        foreach (var t in graph.Initializer) yield return t;
        foreach (var n in graph.Node)
            foreach (var a in n.Attribute)
            {
                if (a.T is not null) yield return a.T;
                if (a.G is not null)
                    foreach (var t in AllTensors(a.G)) yield return t;
                foreach (var g in a.Graphs)
                    foreach (var t in AllTensors(g)) yield return t;
            }
    }

    /// <summary>Largest tensor accepted: what a protobuf or one external-data read can hold (2 GB), far above any weight.</summary>
    const long MaxTensorBytes = int.MaxValue;

    /// <summary>Refuses negative dimensions and element counts that overflow, so later size arithmetic cannot wrap.</summary>
    static void CheckShape(TensorProto t, string modelPath)
    {
        long count = 1;
        foreach (long d in t.Dims)
        {
            if (d < 0)
                throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' has dimension {d}; expected sizes of 0 or more.");
            if (d > 0 && count > long.MaxValue / 8 / d)
                throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' has dimensions [{string.Join(",", t.Dims)}], whose element count overflows.");
            count *= d;
        }
    }

    static string ReadExternal(TensorProto t, string dir, string modelPath)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset": offset = Number(kv.Value, "offset"); break;
                case "length": length = Number(kv.Value, "length"); break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' is marked external but names no location.");
        string file = ConfinedPath.Resolve(dir, location, $"ONNX model '{modelPath}': tensor '{t.Name}' stores its data in external file");
        var status = PathStatus.Of(file);
        if (status.Kind == PathKind.Missing)
            throw new UserInputException($"ONNX model '{modelPath}': external data file '{file}' for tensor '{t.Name}' was not found.");
        PathStatus.RequireFile(file, $"ONNX model '{modelPath}': external data file for tensor '{t.Name}'");

        int elementSize = (TensorProto.Types.DataType)t.DataType switch
        {
            TensorProto.Types.DataType.String or TensorProto.Types.DataType.Undefined => 0,
            _ => OnnxTensorSize(t.DataType),
        };
        if (elementSize == 0)
            throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' of type {(TensorProto.Types.DataType)t.DataType} is stored as external data, which this reader supports only for numeric tensors.");
        long expected = OnnxTensor.ElementCount(t) * elementSize;
        if (length < 0) length = expected;
        if (length != expected)
            throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' has {length} external bytes; its shape and type need {expected}.");
        if (length > MaxTensorBytes)
            throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' needs {length} bytes of external data, more than the {MaxTensorBytes} one tensor may hold here.");
        if (offset > status.Size || length > status.Size - offset)
            throw new UserInputException($"ONNX model '{modelPath}': external data file '{file}' holds {status.Size} bytes; tensor '{t.Name}' needs bytes {offset}..{offset + length} — the file is truncated.");
        var buffer = new byte[length];
        try
        {
            using var fs = File.OpenRead(file);
            fs.Seek(offset, SeekOrigin.Begin);
            fs.ReadExactly(buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"ONNX model '{modelPath}': external data file '{file}' for tensor '{t.Name}' could not be read: {e.Message}", e);
        }
        t.ExternalData.Clear();
        t.DataLocation = TensorProto.Types.DataLocation.Default;
        t.RawData = ByteString.CopyFrom(buffer);
        return location;

        long Number(string text, string key) =>
            long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
                ? v
                : throw new UserInputException($"ONNX model '{modelPath}': tensor '{t.Name}' has external-data {key} '{text}'; expected a non-negative whole number.");

        int OnnxTensorSize(int dataType)
        {
            try { return OnnxTensor.ElementSize(dataType); }
            catch (NotSupportedException) { return 0; }
        }
    }
}
