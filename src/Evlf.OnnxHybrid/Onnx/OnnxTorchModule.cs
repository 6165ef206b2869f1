using Evlf.OnnxHybrid.Onnx.Ops;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// An ONNX graph as a trainable TorchSharp module. Float initializers become named Parameters (the
/// trainable subset chosen by name, see <see cref="ImportOptions"/>); other initializers become buffers;
/// nodes run as TorchSharp ops in graph order so autograd flows through them. <c>train()</c>/<c>eval()</c>
/// switch Dropout and BatchNormalization semantics. <see cref="Save"/> writes the current weights back into
/// a copy of the source file, everything else unchanged.
/// </summary>
public sealed class OnnxTorchModule : nn.Module<IReadOnlyDictionary<string, Tensor>, Dictionary<string, Tensor>>
{
    sealed record CompiledNode(NodeContext Context, OpKernel Kernel, int[] InputSlots, int[] OutputSlots, int[] FreeAfter);

    readonly OnnxModel source;
    readonly List<CompiledNode> nodes = new();
    readonly Dictionary<string, int> slotOf = new(StringComparer.Ordinal);
    readonly List<(int Slot, string Name, bool IsParameter)> stateSlots = new();
    readonly int[] inputSlots;
    readonly int[] outputSlots;
    readonly HashSet<int> protectedSlots = new();
    readonly HashSet<int> producedSlots = new();
    // Results of constant folding: not module state (never saved), but they follow the module's device.
    readonly Dictionary<int, Tensor> foldedValues = new();
    readonly Dictionary<string, int> originalTypes = new();
    Tensor?[] cachedState = Array.Empty<Tensor?>();
    Device? cachedDevice;

    OnnxTorchModule(OnnxModel model, ImportOptions options) : base(model.Graph.Name is { Length: > 0 } n ? n : "onnx")
    {
        source = model;
        var graph = model.Graph;
        long opset = model.Opset;

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
        var initializerNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var init in graph.Initializer)
        {
            initializerNames.Add(init.Name);
            originalTypes[init.Name] = init.DataType;
            var value = OnnxTensor.ToTorch(init);
            bool isFloat = init.DataType is (int)DT.Float or (int)DT.Double or (int)DT.Float16 or (int)DT.Bfloat16;
            int slot = Slot(init.Name);
            if (isFloat && !runningStats.Contains(init.Name))
            {
                bool trainable = options.IsTrainable(init.Name);
                register_parameter(init.Name, new TorchSharp.Modules.Parameter(value, requires_grad: trainable));
                stateSlots.Add((slot, init.Name, true));
            }
            else
            {
                register_buffer(init.Name, value);
                stateSlots.Add((slot, init.Name, false));
            }
        }

        // Graph inputs that are not initializers are what the caller supplies.
        var inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).ToList();
        InputNames = inputs.Select(i => i.Name).ToArray();
        inputSlots = inputs.Select(i => Slot(i.Name)).ToArray();

        // Values that never change between calls: integer initializers and, below, what is computed from them alone.
        var staticValues = new Dictionary<int, Tensor>();
        foreach (var (name, buffer) in named_buffers())
            if (!runningStats.Contains(name)) staticValues[slotOf[name]] = buffer;
        var staticSlots = new HashSet<int>(staticValues.Keys);
        foreach (var node in graph.Node)
        {
            OpRegistry.TryGet(node.Domain, node.OpType, out var kernel);
            var ctx = new NodeContext(node, opset);
            var ins = node.Input.Select(i => i.Length == 0 ? -1 : slotOf.TryGetValue(i, out int s) ? s
                : throw new UserInputException($"ONNX graph: node '{node.Name}' ({node.OpType}) reads '{i}', which no earlier node, input or initializer produces; expected a topologically sorted graph.")).ToArray();
            var outs = node.Output.Select(o => o.Length == 0 ? -1 : Slot(o)).ToArray();
            bool foldable = options.FoldConstants && node.OpType is not ("Dropout" or "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike" or "Multinomial" or "Bernoulli")
                            && ins.All(s => s < 0 || staticSlots.Contains(s));
            if (foldable)
            {
                using (no_grad())
                using (var scope = NewDisposeScope())
                {
                    for (int k = 0; k < ins.Length; k++) ctx.Inputs[k] = ins[k] < 0 ? null : staticValues[ins[k]];
                    var results = kernel(ctx);
                    foreach (var r in results) r?.MoveToOuterDisposeScope();
                    for (int k = 0; k < outs.Length; k++)
                    {
                        if (outs[k] < 0 || results[k] is null) continue;
                        var value = results[k]!;
                        foldedValues[outs[k]] = value;
                        staticValues[outs[k]] = value;
                        staticSlots.Add(outs[k]);
                    }
                    Array.Clear(ctx.Inputs);
                }
                continue;
            }
            nodes.Add(new CompiledNode(ctx, kernel, ins, outs, Array.Empty<int>()));
        }

        OutputNames = graph.Output.Select(o => o.Name).ToArray();
        outputSlots = graph.Output.Select(o => slotOf.TryGetValue(o.Name, out int s) ? s
            : throw new UserInputException($"ONNX graph: output '{o.Name}' is produced by no node.")).ToArray();

        foreach (var compiled in nodes)
            foreach (var s in compiled.OutputSlots)
                if (s >= 0) producedSlots.Add(s);

        // Free each intermediate right after its last reader, so a forward pass holds only live activations.
        foreach (var s in stateSlots) protectedSlots.Add(s.Slot);
        foreach (var s in foldedValues.Keys) protectedSlots.Add(s);
        foreach (var s in inputSlots) protectedSlots.Add(s);
        foreach (var s in outputSlots) protectedSlots.Add(s);
        var lastUse = new Dictionary<int, int>();
        for (int i = 0; i < nodes.Count; i++)
            foreach (var s in nodes[i].InputSlots)
                if (s >= 0) lastUse[s] = i;
        var freeLists = Enumerable.Range(0, nodes.Count).Select(_ => new List<int>()).ToArray();
        foreach (var (slot, node) in lastUse)
            if (!protectedSlots.Contains(slot)) freeLists[node].Add(slot);
        for (int i = 0; i < nodes.Count; i++)
            nodes[i] = nodes[i] with { FreeAfter = freeLists[i].ToArray() };
    }

    /// <summary>Loads an .onnx file (external data included) as a module.</summary>
    public static OnnxTorchModule Load(string path, ImportOptions? options = null) => new(OnnxModel.Load(path), options ?? ImportOptions.Default);

    public static OnnxTorchModule FromModel(OnnxModel model, ImportOptions? options = null) => new(model, options ?? ImportOptions.Default);

    /// <summary>Names of the inputs a caller supplies, in graph order.</summary>
    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    public OnnxModel Source => source;

    /// <summary>Number of nodes executed per call (after constant folding).</summary>
    public int RuntimeNodeCount => nodes.Count;

    /// <summary>The trainable parameters, by initializer name.</summary>
    public IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> TrainableParameters =>
        named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter));

    public override Dictionary<string, Tensor> forward(IReadOnlyDictionary<string, Tensor> inputs)
    {
        foreach (var name in inputs.Keys)
            if (Array.IndexOf(InputNames, name) < 0)
                throw new ArgumentException($"Input '{name}' is not an input of this graph; expected one of: {string.Join(", ", InputNames)}.");
        var slots = new Tensor?[slotOf.Count];
        RefreshStateCache();
        for (int i = 0; i < stateSlots.Count; i++) slots[stateSlots[i].Slot] = cachedState[i];
        foreach (var (slot, value) in foldedValues) slots[slot] = value;
        for (int i = 0; i < InputNames.Length; i++)
            slots[inputSlots[i]] = inputs.TryGetValue(InputNames[i], out var t) ? t
                : throw new ArgumentException($"Input '{InputNames[i]}' is required but was not given.");

        bool training = this.training;
        foreach (var node in nodes)
        {
            var ctx = node.Context;
            for (int k = 0; k < node.InputSlots.Length; k++)
                ctx.Inputs[k] = node.InputSlots[k] < 0 ? null : slots[node.InputSlots[k]];
            ctx.Training = training;
            Tensor?[] results;
            using (var scope = NewDisposeScope())
            {
                try { results = node.Kernel(ctx); }
                catch (Exception e) when (e is not UserInputException)
                {
                    string shapes = string.Join(", ", ctx.Inputs.Select(t => t is null ? "-" : $"{t.dtype}[{string.Join(",", t.shape)}]"));
                    throw new InvalidOperationException($"ONNX node '{ctx.Name}' ({ctx.OpType}) failed on inputs ({shapes}): {e.Message}", e);
                }
                for (int k = 0; k < results.Length; k++)
                {
                    var r = results[k];
                    if (r is null) continue;
                    // A kernel must hand back new tensor objects: slots are disposed independently.
                    if (Array.IndexOf(ctx.Inputs, r) >= 0) results[k] = r = r.alias();
                    r.MoveToOuterDisposeScope();
                }
            }
            for (int k = 0; k < node.OutputSlots.Length; k++)
            {
                if (node.OutputSlots[k] < 0) continue;
                if (k >= results.Length || results[k] is null)
                    throw new InvalidOperationException($"ONNX node '{ctx.Name}' ({ctx.OpType}) produced no value for output '{ctx.Node.Output[k]}'.");
                slots[node.OutputSlots[k]] = results[k];
            }
            Array.Clear(ctx.Inputs);
            foreach (var s in node.FreeAfter)
            {
                slots[s]?.Dispose();
                slots[s] = null;
            }
        }

        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < OutputNames.Length; i++)
        {
            var value = slots[outputSlots[i]]!;
            // An output that is an input, a weight or a folded constant is handed out as a new alias, never the object itself.
            outputs[OutputNames[i]] = producedSlots.Contains(outputSlots[i]) ? value : value.alias();
        }
        return outputs;
    }

    /// <summary>Positional call: inputs in <see cref="InputNames"/> order, outputs in <see cref="OutputNames"/> order.</summary>
    public Tensor[] Run(params Tensor[] inputs)
    {
        if (inputs.Length != InputNames.Length)
            throw new ArgumentException($"This graph takes {InputNames.Length} inputs ({string.Join(", ", InputNames)}); got {inputs.Length}.");
        var dict = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++) dict[InputNames[i]] = inputs[i];
        var result = forward(dict);
        return OutputNames.Select(n => result[n]).ToArray();
    }

    /// <summary>Parameters and buffers are looked up again after <c>to(device)</c> or anything else that replaces them.</summary>
    void RefreshStateCache()
    {
        var probe = stateSlots.Count > 0 ? Lookup(stateSlots[0]) : null;
        if (cachedState.Length == stateSlots.Count && cachedState.Length > 0 && ReferenceEquals(cachedState[0], probe) && SameDevice(probe!.device, cachedDevice)) return;
        var parameters = named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var buffers = named_buffers().ToDictionary(b => b.name, b => b.buffer);
        cachedState = stateSlots.Select(s => s.IsParameter ? parameters[s.Name] : buffers[s.Name]).ToArray();
        cachedDevice = probe?.device;
        if (cachedDevice is not null)
            foreach (var slot in foldedValues.Keys.ToList())
                if (!SameDevice(foldedValues[slot].device, cachedDevice))
                {
                    var moved = foldedValues[slot].to(cachedDevice);
                    if (!ReferenceEquals(moved, foldedValues[slot])) foldedValues[slot].Dispose();
                    foldedValues[slot] = moved;
                }
    }

    static bool SameDevice(Device a, Device? b) => b is not null && a.type == b.type && a.index == b.index;

    Tensor? Lookup((int Slot, string Name, bool IsParameter) s) =>
        s.IsParameter ? get_parameter(s.Name) : get_buffer(s.Name);

    /// <summary>
    /// Writes the current initializer values (trained weights, updated BatchNorm statistics) into a copy of
    /// the source model at <paramref name="path"/>; nodes, metadata and external-data layout are unchanged.
    /// </summary>
    public void Save(string path)
    {
        var proto = source.Proto.Clone();
        var parameters = named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var buffers = named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var init in proto.Graph.Initializer)
        {
            Tensor? current = parameters.TryGetValue(init.Name, out var p) ? p : buffers.TryGetValue(init.Name, out var b) ? b : null;
            if (current is null) continue;
            using var scope = NewDisposeScope();
            var typed = current.detach().to(OnnxTensor.ToScalarType(originalTypes[init.Name]));
            var fresh = OnnxTensor.FromTorch(init.Name, typed);
            OnnxTensor.ClearData(init);
            init.DataType = originalTypes[init.Name];
            init.RawData = fresh.RawData;
        }
        source.WithProto(proto).Save(path);
    }
}
