using Evlf.OnnxHybrid.Onnx;
using Google.Protobuf;
using Onnx;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Hand-assembled small graphs for per-op tests (networks themselves are written with GraphBuilder).</summary>
public sealed class OpGraph
{
    readonly GraphProto graph = new() { Name = "op_test" };
    int counter;

    public string Input(string name, TensorProto.Types.DataType type, params long[] dims)
    {
        graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    public string Initializer(string name, long[] dims, float[] values)
    {
        graph.Initializer.Add(OnnxTensor.FromFloats(name, dims, values));
        return name;
    }

    public string Initializer(string name, TorchSharp.torch.Tensor value)
    {
        graph.Initializer.Add(OnnxTensor.FromTorch(name, value));
        return name;
    }

    public string Ints(long[] values, string? name = null)
    {
        name ??= $"const/i{counter++}";
        graph.Initializer.Add(OnnxTensor.FromInt64s(name, new long[] { values.Length }, values));
        return name;
    }

    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes) => NodeMulti(op, inputs, 1, attributes)[0];

    public string[] NodeMulti(string op, string[] inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{counter++}" };
        node.Input.AddRange(inputs);
        var outs = Enumerable.Range(0, outputs).Select(i => $"{node.Name}_out{i}").ToArray();
        node.Output.AddRange(outs);
        foreach (var (name, value) in attributes)
        {
            var a = new AttributeProto { Name = name };
            switch (value)
            {
                case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
                case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
                case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
                case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
                case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
                case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
                case TensorProto t: a.Type = AttributeProto.Types.AttributeType.Tensor; a.T = t; break;
                default: throw new ArgumentException($"attribute type {value.GetType()}");
            }
            node.Attribute.Add(a);
        }
        graph.Node.Add(node);
        return outs;
    }

    public void Output(string name, TensorProto.Types.DataType type = TensorProto.Types.DataType.Float)
    {
        var vi = new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } } };
        graph.Output.Add(vi);
    }

    public OnnxModel Build(long opset = 17)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return OnnxModel.FromProto(model);
    }

    static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "batch" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
