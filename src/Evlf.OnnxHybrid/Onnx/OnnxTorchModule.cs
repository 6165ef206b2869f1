using Evlf.OnnxHybrid.Onnx.Ops;
using TorchSharp;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// An ONNX graph as a trainable TorchSharp module. Float initializers become named Parameters (the
/// trainable subset chosen by name, see <see cref="ImportOptions"/>); other initializers and BatchNorm
/// running statistics become buffers; nodes run as TorchSharp ops in graph order so autograd flows through
/// them. <c>train()</c>/<c>eval()</c> switch Dropout and BatchNormalization semantics. <see cref="Save"/>
/// writes the current weights back into a copy of the source file, everything else unchanged.
/// </summary>
/// <remarks>
/// Two things keep the per-call overhead low. Nodes whose inputs never change (integer initializers,
/// Constant nodes) are evaluated once at load. Nodes whose inputs are only shapes (Shape, and the
/// Gather/Concat/Unsqueeze arithmetic exporters build on it) are evaluated on the first call with given
/// input shapes and reused for later calls with the same shapes. Intermediates are freed after their
/// last reader. A forward pass is not re-entrant (one call at a time per module).
/// </remarks>
public sealed partial class OnnxTorchModule : nn.Module<IReadOnlyDictionary<string, Tensor>, Dictionary<string, Tensor>>
{
    sealed record CompiledNode(NodeContext Context, OpKernel Kernel, int[] InputSlots, int[] OutputSlots, bool ShapeOnly)
    {
        public int[] FreeAfter { get; set; } = Array.Empty<int>();
    }

    const int ShapeCacheCapacity = 16;
    static readonly HashSet<string> NonDeterministicOps = new() { "Dropout", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli" };

    readonly OnnxModel source;
    readonly List<CompiledNode> nodes = new();
    readonly Dictionary<string, int> slotOf = new(StringComparer.Ordinal);
    readonly List<(int Slot, string Name, bool IsParameter)> stateSlots = new();
    readonly int[] inputSlots;
    readonly int[] outputSlots;
    readonly HashSet<int> producedSlots = new();
    readonly int[] shapeOnlySlots;
    readonly Dictionary<string, int> originalTypes = new();
    // Results of constant folding: not module state (never saved), but they follow the module's device.
    readonly Dictionary<int, Tensor> foldedValues = new();
    // Input-shape signature -> values of the shape-only nodes for those shapes (oldest evicted first).
    readonly Dictionary<string, Tensor[]> shapeCache = new();
    readonly Queue<string> shapeCacheOrder = new();
    Tensor?[] cachedState = Array.Empty<Tensor?>();
    Device? cachedDevice;

    OnnxTorchModule(OnnxModel model, ImportOptions options) : base(model.Graph.Name is { Length: > 0 } n ? n : "onnx")
    {
        source = model;
        var graph = model.Graph;
        long opset = model.Opset;
        // libtorch's oneDNN convolutions are wrong for channel counts that leave a partial block (ConvolutionBackend).
        if (graph.Node.Any(nd => nd.OpType is "Conv" or "ConvTranspose")) ConvolutionBackend.UseNativeKernels();

        var unsupported = graph.Node.Where(nd => !OpRegistry.TryGet(nd.Domain, nd.OpType, out _)).ToList();
        if (unsupported.Count > 0)
        {
            var first = unsupported[0];
            string where = model.Path is null ? "ONNX graph" : $"ONNX model '{model.Path}'";
            string more = unsupported.Count > 1 ? $" ({unsupported.Count} unsupported nodes in all: {string.Join(", ", unsupported.Select(u => u.OpType).Distinct())})" : "";
            throw new UserInputException($"{where}: op '{(first.Domain is "" ? "" : first.Domain + ".")}{first.OpType}' in node '{first.Name}' is not supported by the TorchSharp importer{more}.");
        }

        int Slot(string name)
        {
            if (!slotOf.TryGetValue(name, out int s)) slotOf[name] = s = slotOf.Count;
            return s;
        }

        // Initializers: float ones are Parameters, others (shape constants, indices) buffers; so are
        // BatchNormalization running statistics, which training updates in place rather than by gradient.
        var runningStats = graph.Node.Where(nd => nd.OpType == "BatchNormalization")
            .SelectMany(nd => nd.Input.Skip(3).Take(2)).ToHashSet(StringComparer.Ordinal);
        var modelFrozen = model.Proto.MetadataProps.Where(p => p.Key == GraphBuilder.FrozenMetadataKey)
            .SelectMany(p => p.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet(StringComparer.Ordinal);
        var initializerNames = new HashSet<string>(StringComparer.Ordinal);
        // Values that never change between calls: integer initializers and, below, what is computed from them alone.
        var staticValues = new Dictionary<int, Tensor>();
        foreach (var init in graph.Initializer)
        {
            initializerNames.Add(init.Name);
            originalTypes[init.Name] = init.DataType;
            // Module state must outlive whatever dispose scope the caller constructed us in.
            var value = OnnxTensor.ToTorch(init).DetachFromDisposeScope();
            bool isFloat = init.DataType is (int)DT.Float or (int)DT.Double or (int)DT.Float16 or (int)DT.Bfloat16;
            int slot = Slot(init.Name);
            if (isFloat && !runningStats.Contains(init.Name))
            {
                var parameter = new TorchSharp.Modules.Parameter(value, requires_grad: options.IsTrainable(init.Name, modelFrozen));
                parameter.DetachFromDisposeScope();
                register_parameter(init.Name, parameter);
                stateSlots.Add((slot, init.Name, true));
            }
            else
            {
                register_buffer(init.Name, value);
                stateSlots.Add((slot, init.Name, false));
                if (!isFloat) staticValues[slot] = value;
            }
        }

        // Graph inputs that are not initializers are what the caller supplies.
        var inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
        InputNames = inputs.Select(i => i.Name).ToArray();
        inputSlots = inputs.Select(i => Slot(i.Name)).ToArray();

        var shapeOnly = new HashSet<int>();
        foreach (var node in options.Fuse ? GraphFusion.Apply(graph) : graph.Node.ToList())
        {
            OpRegistry.TryGet(node.Domain, node.OpType, out var kernel);
            var ctx = new NodeContext(node, opset);
            var ins = node.Input.Select(i => i.Length == 0 ? -1 : slotOf.TryGetValue(i, out int s) ? s
                : throw new UserInputException($"ONNX graph: node '{node.Name}' ({node.OpType}) reads '{i}', which no earlier node, input or initializer produces; expected a topologically sorted graph.")).ToArray();
            var outs = node.Output.Select(o => o.Length == 0 ? -1 : Slot(o)).ToArray();
            bool deterministic = !NonDeterministicOps.Contains(node.OpType);
            if (options.FoldConstants && deterministic && ins.All(s => s < 0 || staticValues.ContainsKey(s)))
            {
                using (no_grad())
                using (NewDisposeScope())
                {
                    for (int k = 0; k < ins.Length; k++) ctx.Inputs[k] = ins[k] < 0 ? null : staticValues[ins[k]];
                    var results = kernel(ctx);
                    for (int k = 0; k < outs.Length; k++)
                    {
                        if (outs[k] < 0 || k >= results.Length || results[k] is null) continue;
                        var value = results[k]!.DetachFromDisposeScope();
                        foldedValues[outs[k]] = value;
                        staticValues[outs[k]] = value;
                    }
                    Array.Clear(ctx.Inputs);
                }
                continue;
            }
            bool isShapeOnly = options.FoldConstants && deterministic
                && (node.OpType is "Shape" or "Size" || ins.All(s => s < 0 || staticValues.ContainsKey(s) || shapeOnly.Contains(s)));
            if (isShapeOnly)
                foreach (var o in outs)
                    if (o >= 0) shapeOnly.Add(o);
            nodes.Add(new CompiledNode(ctx, kernel, ins, outs, isShapeOnly));
        }

        OutputNames = graph.Output.Select(o => o.Name).ToArray();
        outputSlots = graph.Output.Select(o => slotOf.TryGetValue(o.Name, out int s) ? s
            : throw new UserInputException($"ONNX graph: output '{o.Name}' is produced by no node.")).ToArray();
        shapeOnlySlots = shapeOnly.OrderBy(s => s).ToArray();
        foreach (var compiled in nodes)
            foreach (var s in compiled.OutputSlots)
                if (s >= 0) producedSlots.Add(s);

        // Free each intermediate right after its last reader, so a forward pass holds only live activations.
        var kept = new HashSet<int>(stateSlots.Select(s => s.Slot));
        kept.UnionWith(foldedValues.Keys);
        kept.UnionWith(inputSlots);
        kept.UnionWith(outputSlots);
        kept.UnionWith(shapeOnly);
        var lastUse = new Dictionary<int, int>();
        for (int i = 0; i < nodes.Count; i++)
            foreach (var s in nodes[i].InputSlots)
                if (s >= 0) lastUse[s] = i;
        var freeLists = Enumerable.Range(0, nodes.Count).Select(_ => new List<int>()).ToArray();
        foreach (var (slot, node) in lastUse)
            if (!kept.Contains(slot)) freeLists[node].Add(slot);
        for (int i = 0; i < nodes.Count; i++) nodes[i].FreeAfter = freeLists[i].ToArray();
    }

    /// <summary>Loads an .onnx file (external data included) as a module.</summary>
    public static OnnxTorchModule Load(string path, ImportOptions? options = null) => FromModel(OnnxModel.Load(path), options);

    public static OnnxTorchModule FromModel(OnnxModel model, ImportOptions? options = null)
    {
        TorchSharpLoader.Ensure();  // before Module's constructor first calls into libtorch
        return new(model, options ?? ImportOptions.Default);
    }

    /// <summary>Names of the inputs a caller supplies, in graph order.</summary>
    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    public OnnxModel Source => source;

    /// <summary>Number of nodes left to run per call after constant folding (shape-only ones included).</summary>
    public int RuntimeNodeCount => nodes.Count;

    /// <summary>Number of nodes that depend only on input shapes, evaluated once per distinct input shapes.</summary>
    public int ShapeOnlyNodeCount => nodes.Count(n => n.ShapeOnly);

    /// <summary>When set, <see cref="forward"/> accumulates wall time per op type here (for finding slow ops).</summary>
    public Dictionary<string, (int Calls, double Milliseconds)>? Profile { get; set; }

    /// <summary>
    /// Where Dropout nodes draw their masks in training mode; null means libtorch's global generator. A module-owned
    /// generator keeps a training run reproducible when other work in the process also draws random numbers.
    /// </summary>
    public Generator? RandomGenerator { get; set; }

    /// <summary>The trainable parameters, by initializer name.</summary>
    public IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> TrainableParameters =>
        named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter));
}
