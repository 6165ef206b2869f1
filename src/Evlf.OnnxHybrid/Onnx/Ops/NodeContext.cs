using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>
/// One ONNX node as the importer runs it: its attributes parsed once at load time, and the input
/// tensors of the current call. One context per node, reused across calls (a forward pass is not
/// re-entrant).
/// </summary>
public sealed class NodeContext
{
    readonly Dictionary<string, AttributeProto> attributes;

    public NodeContext(NodeProto node, long opset)
    {
        Node = node;
        Opset = opset;
        attributes = node.Attribute.ToDictionary(a => a.Name);
        Inputs = new Tensor?[node.Input.Count];
    }

    public NodeProto Node { get; }
    public string OpType => Node.OpType;
    public string Name => string.IsNullOrEmpty(Node.Name) ? $"<{Node.OpType} -> {string.Join(",", Node.Output)}>" : Node.Name;

    /// <summary>Opset of the default domain the model imports; op semantics changed across opsets.</summary>
    public long Opset { get; }

    /// <summary>Inputs of the current call; null where the node leaves an optional input empty.</summary>
    public Tensor?[] Inputs { get; }

    /// <summary>True while the owning module is in training mode (Dropout active, BatchNorm uses batch statistics).</summary>
    public bool Training { get; set; }

    /// <summary>The owning module's random generator for Dropout; null means libtorch's global one.</summary>
    public Generator? Generator { get; set; }

    public int OutputCount => Node.Output.Count;

    public bool HasInput(int i) => i < Inputs.Length && Inputs[i] is not null;

    public Tensor Input(int i) =>
        HasInput(i) ? Inputs[i]! : throw new InvalidDataException($"ONNX node '{Name}' ({OpType}) needs input {i}, which is missing.");

    public Tensor? OptionalInput(int i) => HasInput(i) ? Inputs[i] : null;

    public bool HasAttribute(string name) => attributes.ContainsKey(name);

    public long Int(string name, long fallback) => attributes.TryGetValue(name, out var a) ? a.I : fallback;

    public float Float(string name, float fallback) => attributes.TryGetValue(name, out var a) ? a.F : fallback;

    public string String(string name, string fallback) => attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => attributes.TryGetValue(name, out var a) ? a.Ints.ToArray() : null;

    public float[]? Floats(string name) => attributes.TryGetValue(name, out var a) ? a.Floats.ToArray() : null;

    public TensorProto? TensorAttribute(string name) => attributes.TryGetValue(name, out var a) ? a.T : null;

    /// <summary>Reads a small integer tensor (shapes, axes, sizes) into host memory.</summary>
    public static long[] Longs(Tensor t)
    {
        using var c = t.to(ScalarType.Int64, CPU).contiguous();
        return c.data<long>().ToArray();
    }

    public static double[] Doubles(Tensor t)
    {
        using var c = t.to(ScalarType.Float64, CPU).contiguous();
        return c.data<double>().ToArray();
    }

    /// <summary>Normalises a possibly negative axis against a rank.</summary>
    public long Axis(long axis, long rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new InvalidDataException($"ONNX node '{Name}' ({OpType}): axis {axis} is out of range for rank {rank}.");
        return a;
    }

    public InvalidDataException Unsupported(string what) =>
        new($"ONNX node '{Name}' ({OpType}): {what} is not supported by the TorchSharp importer.");
}

/// <summary>Runs one ONNX node with TorchSharp ops; returns one tensor per node output (null for unused optional ones).</summary>
public delegate Tensor?[] OpKernel(NodeContext ctx);
