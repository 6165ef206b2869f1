using Onnx;
using TorchSharp;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>A parameter (or buffer) of a built graph: its state-dict name, shape and whether it is meant to be trained.</summary>
public sealed record ParameterInfo(string Name, IReadOnlyList<long> Shape, bool Trainable)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]{(Trainable ? "" : " (frozen)")}";
}

public sealed partial class GraphBuilder
{
    sealed class ParameterEntry(ParameterInfo info, TensorProto tensor)
    {
        public ParameterInfo Info { get; } = info;
        public TensorProto Tensor { get; set; } = tensor;
    }

    // Insertion-ordered: Build writes initializers in creation order.
    readonly OrderedDictionary<string, ParameterEntry> parameters = new(StringComparer.Ordinal);

    /// <summary>Every parameter and buffer created so far, in creation order.</summary>
    public IReadOnlyList<ParameterInfo> Parameters => parameters.Values.Select(p => p.Info).ToList();

    /// <summary>Total number of elements over all parameters.</summary>
    public long ParameterCount => parameters.Values.Sum(p => p.Info.ElementCount);

    /// <summary>
    /// Creates a float32 initializer named <c>scope.name</c> with values drawn by <paramref name="init"/>.
    /// A name used twice is an error. <paramref name="trainable"/>: false marks a buffer (listed under
    /// <see cref="FrozenMetadataKey"/>), e.g. running statistics or a fixed position table that should still
    /// load from a state dict.
    /// </summary>
    public Value Parameter(string name, long[] shape, ParameterInit init, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(init);
        if (string.IsNullOrWhiteSpace(name) || name.StartsWith('.') || name.EndsWith('.') || name.Contains("..") || name.Contains('/'))
            throw new ArgumentException($"Parameter name '{name}' is not a dotted module path.", nameof(name));
        if (shape.Any(d => d < 0)) throw new ArgumentException($"Parameter '{name}' has a negative dimension: [{string.Join(", ", shape)}].");
        string full = QualifiedName(name);
        if (parameters.ContainsKey(full))
            throw new ArgumentException($"Graph '{Name}' already has a parameter named '{full}'; parameter names must be unique.");
        if (values.ContainsKey(full) || outputs.Any(o => o.Name == full))
            throw new ArgumentException($"Graph '{Name}' already has a value named '{full}'; a parameter cannot share it.");
        var tensor = OnnxTensor.FromFloats(full, shape, init.Draw(full, shape, Seed));
        parameters.Add(full, new ParameterEntry(new ParameterInfo(full, shape.ToArray(), trainable), tensor));
        values[full] = new ValueMeta(ElementType.Float, shape.Select(d => (Dim)d).ToArray());
        return new Value(full);
    }

    /// <summary>The current values of a parameter, row-major.</summary>
    public float[] GetParameter(string name) => OnnxTensor.ToFloats(Entry(name).Tensor);

    /// <summary>Replaces a parameter's values (row-major; the count must match its shape).</summary>
    public void SetParameter(string name, ReadOnlySpan<float> data)
    {
        var entry = Entry(name);
        long expected = entry.Info.ElementCount;
        if (data.Length != expected)
            throw new ArgumentException($"Parameter '{name}' of shape [{string.Join(", ", entry.Info.Shape)}] needs {expected} values; got {data.Length}.");
        entry.Tensor = OnnxTensor.FromFloats(name, entry.Info.Shape.ToArray(), data);
    }

    /// <summary>Replaces a parameter's values from a tensor of the same shape (any float dtype, any device).</summary>
    public void SetParameter(string name, torch.Tensor data)
    {
        var entry = Entry(name);
        if (!data.shape.SequenceEqual(entry.Info.Shape))
            throw new ArgumentException($"Parameter '{name}' has shape [{string.Join(", ", entry.Info.Shape)}]; the tensor has shape [{string.Join(", ", data.shape)}].");
        using var f = data.detach().to(torch.ScalarType.Float32).cpu().contiguous();
        SetParameter(name, f.data<float>().ToArray());
    }

    /// <summary>Redraws a parameter's values with another rule (like <c>torch.nn.init.*_</c> on an existing parameter).</summary>
    public void Initialize(string name, ParameterInit init)
    {
        var entry = Entry(name);
        SetParameter(name, init.Draw(name, entry.Info.Shape.ToArray(), Seed));
    }

    /// <summary>
    /// Copies values by name from another model's initializers (e.g. trained weights). Strict: every
    /// parameter must be present, no extra initializer may exist, shapes must match. Not strict: only
    /// the names present in both are copied (shapes must still match). Returns the names copied.
    /// </summary>
    public IReadOnlyList<string> LoadParameters(OnnxModel source, bool strict = true)
    {
        var byName = source.Graph.Initializer.ToDictionary(t => t.Name);
        if (strict)
        {
            var missing = parameters.Keys.Where(k => !byName.ContainsKey(k)).ToList();
            var extra = byName.Keys.Where(k => !parameters.ContainsKey(k)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new ArgumentException($"Loading parameters into graph '{Name}': missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].");
        }
        var loaded = new List<string>();
        foreach (var (name, entry) in parameters)
        {
            if (!byName.TryGetValue(name, out var t)) continue;
            if (!t.Dims.SequenceEqual(entry.Info.Shape))
                throw new ArgumentException($"Parameter '{name}' has shape [{string.Join(", ", entry.Info.Shape)}]; the source holds [{string.Join(", ", t.Dims)}].");
            SetParameter(name, OnnxTensor.ToFloats(t));
            loaded.Add(name);
        }
        return loaded;
    }

    ParameterEntry Entry(string name) =>
        parameters.TryGetValue(name, out var e) ? e : throw new ArgumentException($"Graph '{Name}' has no parameter named '{name}'.");
}
