using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

// The module's state: the parameters and buffers a forward pass reads (re-read after a move to another device), the
// weights written back into the source model, and the folded values and cached shapes it owns.
public sealed partial class OnnxTorchModule
{
    /// <summary>Parameters and buffers are looked up again after <c>to(device)</c> or anything else that replaces them.</summary>
    void RefreshStateCache()
    {
        var probe = stateSlots.Count > 0 ? Lookup(stateSlots[0]) : null;
        if (cachedState.Length == stateSlots.Count && cachedState.Length > 0 && ReferenceEquals(cachedState[0], probe) && SameDevice(probe!.device, cachedDevice)) return;
        var parameters = named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var buffers = named_buffers().ToDictionary(b => b.name, b => b.buffer);
        cachedState = stateSlots.Select(s => s.IsParameter ? parameters[s.Name] : buffers[s.Name]).ToArray();
        cachedDevice = probe?.device;
        if (cachedDevice is null) return;
        foreach (var slot in foldedValues.Keys.ToList())
            if (!SameDevice(foldedValues[slot].device, cachedDevice))
            {
                var moved = foldedValues[slot].to(cachedDevice).DetachFromDisposeScope();
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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in foldedValues.Values) t.Dispose();
            foldedValues.Clear();
            foreach (var values in shapeCache.Values)
                foreach (var t in values) t.Dispose();
            shapeCache.Clear();
        }
        base.Dispose(disposing);
    }
}
