using Google.Protobuf;
using Onnx;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Authors a network directly as an ONNX graph, PyTorch-style:
/// <code>
/// var g = new GraphBuilder("fusion", seed: 0);
/// var x = g.Input("tokens", ElementType.Float, "batch", 64, 256);   // symbolic batch
/// using (g.Scope("layers.0"))
///     x = g.Linear("attn.out_proj", x, 256, 256);   // layers.0.attn.out_proj.weight / .bias
/// g.Output("z_fused", x);
/// OnnxModel model = g.Build();
/// </code>
/// <para><b>Parameters vs constants.</b> The graph's initializers are exactly the network's state dict:
/// every initializer is a parameter or buffer created with <see cref="Parameter"/> (or a layer), named
/// as PyTorch would name it (<c>layers.0.attn.out_proj.weight</c>). Every other fixed tensor — shape
/// vectors, axes, scalars, the ones/zeros of a non-affine norm, frequency tables — is a <c>Constant</c>
/// node and never an initializer. Buffers that should not be trained (BatchNorm running statistics,
/// parameters created with <c>trainable: false</c>) are listed, comma-separated, in the model metadata
/// entry <see cref="FrozenMetadataKey"/>.</para>
/// <para><b>Names.</b> Inputs and outputs carry the names given. Intermediate values and nodes are named
/// <c>/scope/path/OpType_N</c> (always starting with '/'), so they never collide with user names.</para>
/// </summary>
public sealed partial class GraphBuilder
{
    public const long DefaultOpset = 17;
    public const long MaxOpset = 21;
    public const long IrVersion = 8;
    public const string ProducerName = "Evlf.OnnxHybrid";

    /// <summary>Model metadata key listing initializers that are not meant to be trained.</summary>
    public const string FrozenMetadataKey = "evlf.frozen_initializers";

    /// <summary>
    /// Every ONNX op type (default domain) the builder can emit — the contract with the OnnxTorch importer,
    /// which must execute each of them. Emitting anything else is a bug in the builder.
    /// </summary>
    public static IReadOnlySet<string> OpTypes { get; } = new SortedSet<string>(StringComparer.Ordinal)
    {
        // tensors and shapes
        "Constant", "Identity", "Shape", "Gather", "Cast", "Reshape", "Transpose", "Concat", "Split", "Slice",
        "Flatten", "Unsqueeze", "Squeeze", "Pad",
        // arithmetic and activations
        "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Sqrt", "Sin", "Cos", "Erf", "Tanh", "Sigmoid", "Relu",
        "MatMul", "Gemm", "Softmax", "Dropout",
        // layers
        "Conv", "AveragePool", "GlobalAveragePool", "Resize",
        "InstanceNormalization", "LayerNormalization", "BatchNormalization",
    };

    readonly record struct ValueMeta(ElementType Type, Dim[]? Shape);

    readonly List<NodeProto> nodes = new();
    readonly List<ValueInfoProto> inputs = new();
    readonly List<(string Name, Value Value, Dim[]? Dims)> outputs = new();
    readonly Dictionary<string, ValueMeta> values = new(StringComparer.Ordinal);
    readonly List<string> scopes = new();
    int nextNodeId;

    /// <param name="name">Graph name.</param>
    /// <param name="seed">Seed of every parameter's initial values.</param>
    /// <param name="opset">Default-domain opset, 17 to 21; every op form the builder emits is valid across that range.</param>
    public GraphBuilder(string name, int seed = 0, long opset = DefaultOpset)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A graph needs a non-empty name.", nameof(name));
        if (opset < DefaultOpset || opset > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"GraphBuilder emits opset {DefaultOpset}–{MaxOpset} op forms.");
        Name = name;
        Seed = seed;
        Opset = opset;
    }

    public string Name { get; }

    public int Seed { get; }

    public long Opset { get; }

    /// <summary>Number of nodes emitted so far.</summary>
    public int NodeCount => nodes.Count;

    // ---- scopes -------------------------------------------------------------------------------------

    /// <summary>
    /// Prefixes the names of parameters created inside the returned scope with <paramref name="name"/>
    /// (joined with '.', like a PyTorch submodule: <c>layers.0</c>); nodes get the matching '/' path.
    /// </summary>
    public IDisposable Scope(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith('.') || name.EndsWith('.') || name.Contains("..") || name.Contains('/'))
            throw new ArgumentException($"Scope name '{name}' is not a dotted module path (no empty segments, no '/').", nameof(name));
        scopes.Add(name);
        return new ScopeHandle(this, scopes.Count);
    }

    /// <summary>The current scope as a dotted prefix ("" at the top level).</summary>
    public string CurrentScope => string.Join('.', scopes.Where(s => s.Length > 0));

    /// <summary><paramref name="name"/> qualified by the current scope: what a parameter created now would be called.</summary>
    public string QualifiedName(string name) =>
        string.Join('.', scopes.Append(name).Where(s => s.Length > 0));

    sealed class ScopeHandle(GraphBuilder owner, int depth) : IDisposable
    {
        bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            if (owner.scopes.Count != depth)
                throw new InvalidOperationException($"Scopes must be closed in reverse order of opening; closing '{owner.scopes[depth - 1]}' while '{owner.CurrentScope}' is open.");
            owner.scopes.RemoveAt(depth - 1);
            disposed = true;
        }
    }

    // ---- inputs and outputs -------------------------------------------------------------------------

    /// <summary>A graph input; dims may be fixed (<c>4</c>) or symbolic (<c>"batch"</c>).</summary>
    public Value Input(string name, ElementType type, params Dim[] dims)
    {
        CheckUserName(name, "input");
        if (dims.Any(d => !d.IsKnown))
            throw new ArgumentException($"Input '{name}': every dimension must be a size or a symbol.", nameof(dims));
        var info = new ValueInfoProto { Name = name, Type = TensorType(type, dims) };
        inputs.Add(info);
        values[name] = new ValueMeta(type, dims.ToArray());
        return new Value(name);
    }

    /// <summary>
    /// Marks <paramref name="value"/> as a graph output named <paramref name="name"/>. With no dims the
    /// statically inferred shape is declared (unknown where inference could not tell).
    /// </summary>
    public void Output(string name, Value value, params Dim[] dims)
    {
        CheckUserName(name, "output");
        var meta = Meta(value);
        if (dims.Length > 0 && meta.Shape is not null)
        {
            if (dims.Length != meta.Shape.Length)
                throw new ArgumentException($"Output '{name}' is declared with rank {dims.Length} ({Format(dims)}); the value has shape {Format(meta.Shape)}.");
            for (int i = 0; i < dims.Length; i++)
                if (dims[i].IsFixed && meta.Shape[i].IsFixed && dims[i].Size != meta.Shape[i].Size)
                    throw new ArgumentException($"Output '{name}' is declared as {Format(dims)}; the value has shape {Format(meta.Shape)}.");
        }
        outputs.Add((name, value, dims.Length > 0 ? dims.ToArray() : meta.Shape));
    }

    /// <summary>The element type of a value of this graph.</summary>
    public ElementType TypeOf(Value value) => Meta(value).Type;

    /// <summary>The statically inferred shape of a value (unknown dimensions are <see cref="Dim.Unknown"/>), or null when even its rank is unknown.</summary>
    public IReadOnlyList<Dim>? ShapeOf(Value value) => Meta(value).Shape;

    // ---- build --------------------------------------------------------------------------------------

    /// <summary>
    /// The finished model (IR version 8, the builder's opset, producer "Evlf.OnnxHybrid"). The builder
    /// stays usable; each call returns an independent copy.
    /// </summary>
    public OnnxModel Build()
    {
        if (outputs.Count == 0) throw new InvalidOperationException($"Graph '{Name}' has no outputs; call Output before Build.");
        var graph = new GraphProto { Name = Name };
        graph.Input.AddRange(inputs.Select(i => i.Clone()));
        graph.Initializer.AddRange(parameters.Values.Select(p => p.Tensor.Clone()));
        var graphNodes = nodes.Select(n => n.Clone()).ToList();

        var producers = new Dictionary<string, NodeProto>();
        foreach (var n in graphNodes)
            foreach (var o in n.Output)
                producers[o] = n;
        var outputsOf = outputs.GroupBy(o => o.Value.Name).ToDictionary(gr => gr.Key, gr => gr.Count());

        foreach (var (name, value, dims) in outputs)
        {
            var type = values[value.Name].Type;
            // Rename the producing node's output when it is an intermediate value exported once; otherwise
            // (graph input, parameter, value exported twice) route it through Identity.
            if (producers.TryGetValue(value.Name, out var producer) && outputsOf[value.Name] == 1)
            {
                foreach (var n in graphNodes)
                {
                    for (int i = 0; i < n.Output.Count; i++)
                        if (n.Output[i] == value.Name) n.Output[i] = name;
                    for (int i = 0; i < n.Input.Count; i++)
                        if (n.Input[i] == value.Name) n.Input[i] = name;
                }
            }
            else
            {
                var identity = new NodeProto { OpType = "Identity", Name = "/output/" + name };
                identity.Input.Add(value.Name);
                identity.Output.Add(name);
                graphNodes.Add(identity);
            }
            graph.Output.Add(new ValueInfoProto { Name = name, Type = TensorType(type, dims) });
        }
        graph.Node.AddRange(graphNodes);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = typeof(GraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        var frozen = parameters.Values.Where(p => !p.Info.Trainable).Select(p => p.Info.Name).ToList();
        if (frozen.Count > 0)
            model.MetadataProps.Add(new StringStringEntryProto { Key = FrozenMetadataKey, Value = string.Join(",", frozen) });
        return OnnxModel.FromProto(model);
    }

    // ---- node emission (used by every op and layer) --------------------------------------------------

    ValueMeta Meta(Value value)
    {
        if (value.Name is null || !values.TryGetValue(value.Name, out var meta))
            throw new ArgumentException($"Value '{value.Name}' is not part of graph '{Name}'.");
        return meta;
    }

    /// <summary>Emits one node; <paramref name="nodeInputs"/> entries that are null become ONNX's "absent input".</summary>
    Value[] Emit(string opType, Value?[] nodeInputs, (ElementType Type, Dim[]? Shape)[] outputMeta, params AttributeProto[] attributes)
    {
        if (!OpTypes.Contains(opType)) throw new InvalidOperationException($"GraphBuilder emitted '{opType}', which is missing from GraphBuilder.OpTypes.");
        foreach (var v in nodeInputs)
            if (v is { } present) Meta(present);
        string nodeName = "/" + string.Join('/', scopes.Where(s => s.Length > 0).Append($"{opType}_{nextNodeId++}"));
        var node = new NodeProto { OpType = opType, Name = nodeName };
        node.Input.AddRange(nodeInputs.Select(v => v?.Name ?? ""));
        node.Attribute.AddRange(attributes);
        var result = new Value[outputMeta.Length];
        for (int i = 0; i < outputMeta.Length; i++)
        {
            string outName = i == 0 ? nodeName : $"{nodeName}:{i}";
            node.Output.Add(outName);
            values[outName] = new ValueMeta(outputMeta[i].Type, outputMeta[i].Shape);
            result[i] = new Value(outName);
        }
        nodes.Add(node);
        return result;
    }

    Value Emit1(string opType, Value?[] nodeInputs, ElementType type, Dim[]? shape, params AttributeProto[] attributes) =>
        Emit(opType, nodeInputs, new[] { (type, shape) }, attributes)[0];

    static AttributeProto IntAttr(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    static AttributeProto FloatAttr(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    static AttributeProto StringAttr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    static AttributeProto IntsAttr(string name, IEnumerable<long> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    static AttributeProto TensorAttr(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    void CheckUserName(string name, string what)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"An {what} needs a non-empty name.");
        if (name.StartsWith('/')) throw new ArgumentException($"{Capitalize(what)} name '{name}' may not start with '/' (reserved for intermediate values).");
        if (values.ContainsKey(name) || parameters.ContainsKey(name) || outputs.Any(o => o.Name == name))
            throw new ArgumentException($"Graph '{Name}' already has a value named '{name}'; {what} names must be unique.");
    }

    static string Capitalize(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    static TypeProto TensorType(ElementType type, Dim[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var d in dims)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.Size is long size) dim.DimValue = size;
                else if (d.Symbol is not null) dim.DimParam = d.Symbol;
                tensor.Shape.Dim.Add(dim);
            }
        }
        return new TypeProto { TensorType = tensor };
    }

    internal static string Format(IReadOnlyList<Dim>? shape) => shape is null ? "[?]" : "[" + string.Join(", ", shape) + "]";
}
