using System.Diagnostics;
using System.Text;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

// The forward pass: nodes in graph order over a slot array, shape-only values from the per-shape cache, each
// intermediate freed after its last reader.
public sealed partial class OnnxTorchModule
{
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

        string? signature = shapeOnlySlots.Length == 0 ? null : ShapeSignature(slots);
        Tensor[]? cachedShapes = null;
        bool haveShapes = signature is not null && shapeCache.TryGetValue(signature, out cachedShapes);
        if (haveShapes)
            for (int i = 0; i < shapeOnlySlots.Length; i++) slots[shapeOnlySlots[i]] = cachedShapes![i];

        bool training = this.training;
        foreach (var node in nodes)
        {
            if (node.ShapeOnly && haveShapes) continue;
            var ctx = node.Context;
            for (int k = 0; k < node.InputSlots.Length; k++)
                ctx.Inputs[k] = node.InputSlots[k] < 0 ? null : slots[node.InputSlots[k]];
            ctx.Training = training;
            ctx.Generator = RandomGenerator;
            Tensor?[] results;
            using (var scope = NewDisposeScope())
            {
                long started = Profile is null ? 0 : Stopwatch.GetTimestamp();
                try { results = node.Kernel(ctx); }
                catch (Exception e) when (e is not UserInputException)
                {
                    string shapes = string.Join(", ", ctx.Inputs.Select(t => t is null ? "-" : $"{t.dtype}[{string.Join(",", t.shape)}]"));
                    Array.Clear(ctx.Inputs);
                    throw new InvalidOperationException($"ONNX node '{ctx.Name}' ({ctx.OpType}) failed on inputs ({shapes}): {e.Message}", e);
                }
                for (int k = 0; k < results.Length; k++)
                {
                    var r = results[k];
                    if (r is null) continue;
                    // A kernel must hand back new tensor objects: slots are disposed independently.
                    if (Array.IndexOf(ctx.Inputs, r) >= 0) results[k] = r = r.alias();
                    if (node.ShapeOnly) r.DetachFromDisposeScope();
                    else r.MoveToOuterDisposeScope();
                }
                if (Profile is not null)
                {
                    Profile.TryGetValue(ctx.OpType, out var p);
                    Profile[ctx.OpType] = (p.Calls + 1, p.Milliseconds + Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
        if (signature is not null && !haveShapes) RememberShapes(signature, slots);

        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < OutputNames.Length; i++)
        {
            int slot = outputSlots[i];
            var value = slots[slot]!;
            // An output that is an input, a weight, a folded constant or a cached shape value is handed out
            // as a new alias, never as the object the module keeps.
            bool ownedByCaller = producedSlots.Contains(slot) && Array.BinarySearch(shapeOnlySlots, slot) < 0;
            outputs[OutputNames[i]] = ownedByCaller ? value : value.alias();
        }
        return outputs;
    }

    static string ShapeSignature(Tensor?[] slots, int[] inputSlots)
    {
        var sb = new StringBuilder();
        foreach (var s in inputSlots)
        {
            var t = slots[s]!;
            sb.Append(t.dtype).Append(t.device_type).Append('[').AppendJoin(',', t.shape).Append(']');
        }
        return sb.ToString();
    }

    string ShapeSignature(Tensor?[] slots) => ShapeSignature(slots, inputSlots);

    void RememberShapes(string signature, Tensor?[] slots)
    {
        if (shapeCacheOrder.Count >= ShapeCacheCapacity)
        {
            var oldest = shapeCacheOrder.Dequeue();
            foreach (var t in shapeCache[oldest]) t.Dispose();
            shapeCache.Remove(oldest);
        }
        shapeCache[signature] = shapeOnlySlots.Select(s => slots[s]!).ToArray();
        shapeCacheOrder.Enqueue(signature);
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
}
