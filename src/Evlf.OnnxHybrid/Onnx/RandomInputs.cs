using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Seeded random inputs that are valid for a graph: floats ~ N(0,1); integer inputs that index an
/// embedding table (found by following the value to a Gather) are drawn below the table's size;
/// inputs named like a mask are ones; other integers are timesteps in [0, 1000).
/// </summary>
public static class RandomInputs
{
    /// <summary>Timesteps of the 1000-step schedules used by DiT and Stable Diffusion.</summary>
    public const long TimestepRange = 1000;

    /// <summary>Most elements all random inputs together may hold (2^28: 1 GiB of float32), so a large batch or dimension is refused before it is allocated.</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>The inputs in one line, "name dtype[shape], …", as the command line's parity check prints them.</summary>
    public static string Describe(IReadOnlyDictionary<string, Tensor> inputs) =>
        string.Join(", ", inputs.Select(kv => $"{kv.Key} {kv.Value.dtype}[{string.Join(",", kv.Value.shape)}]"));

    /// <summary>The <c>batch</c> argument of <see cref="For"/>, as messages name it.</summary>
    public const string BatchOption = $"{nameof(RandomInputs)}.{nameof(For)}(batch)";

    /// <summary>The <c>dims</c> argument of <see cref="For"/>, as messages name it.</summary>
    public const string DimsOption = $"{nameof(RandomInputs)}.{nameof(For)}(dims)";

    /// <param name="model">Graph to draw inputs for; inputs that are also initializers are skipped.</param>
    /// <param name="seed">Seed of the one generator every random input is drawn from, in input order.</param>
    /// <param name="batch">Size of every free first dimension.</param>
    /// <param name="dims">Sizes for symbolic dimensions by name; unnamed free dimensions and the first one default to <paramref name="batch"/>, the rest to 8.</param>
    public static Dictionary<string, Tensor> For(OnnxModel model, long seed, int batch = 2, IReadOnlyDictionary<string, long>? dims = null)
    {
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var generator = new Generator((ulong)seed);
        var inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToList();
        var shapes = new List<long[]>();
        long total = 0;
        foreach (var input in inputs)
        {
            var tensorType = input.Type?.TensorType ?? throw new UserInputException($"ONNX input '{input.Name}' is not a tensor; only tensor inputs are supported.");
            var shape = tensorType.Shape?.Dim.Select((d, axis) => ResolveDim(input.Name, d, axis, batch, dims)).ToArray() ?? Array.Empty<long>();
            shapes.Add(shape);
            // Saturating product: the point is only whether the cap is passed.
            long count = 1;
            foreach (var d in shape) count = d == 0 ? 0 : count > MaxElements / d ? MaxElements + 1 : count * d;
            total = Math.Min(total + count, MaxElements + 1);
        }
        if (total > MaxElements)
            throw UserInputException.ForOptions(
                $"Random inputs for '{model.Path ?? graph.Name}' would hold more than {MaxElements} elements ({string.Join(", ", inputs.Select((i, k) => $"{i.Name} [{string.Join(",", shapes[k])}]"))}); use a smaller {BatchOption} or smaller {DimsOption}.",
                [BatchOption, DimsOption]);

        var result = new Dictionary<string, Tensor>();
        for (int k = 0; k < inputs.Count; k++)
        {
            var input = inputs[k];
            var tensorType = input.Type!.TensorType!;
            var shape = shapes[k];
            var type = (DT)tensorType.ElemType;
            Tensor value;
            switch (type)
            {
                case DT.Float or DT.Float16 or DT.Double or DT.Bfloat16:
                    value = randn(shape, generator: generator).to(OnnxTensor.ToScalarType((int)type));
                    break;
                case DT.Int64 or DT.Int32 or DT.Int16 or DT.Int8 or DT.Uint8:
                    long high = IndexRange(graph, input.Name, initializers) ?? (LooksLikeMask(input.Name) ? 0 : TimestepRange);
                    value = high == 0
                        ? ones(shape, dtype: OnnxTensor.ToScalarType((int)type))
                        : randint(0, high, shape, generator: generator).to(OnnxTensor.ToScalarType((int)type));
                    break;
                case DT.Bool:
                    value = ones(shape, dtype: ScalarType.Bool);
                    break;
                default:
                    throw new UserInputException($"ONNX input '{input.Name}' has element type {type}; random inputs support float and integer tensors.");
            }
            result[input.Name] = value;
        }
        return result;
    }

    static bool LooksLikeMask(string name) => name.Contains("mask", StringComparison.OrdinalIgnoreCase);

    static long ResolveDim(string input, TensorShapeProto.Types.Dimension d, int axis, int batch, IReadOnlyDictionary<string, long>? dims)
    {
        if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0) return d.DimValue;
        if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && dims is not null && dims.TryGetValue(d.DimParam, out var v)) return v;
        return axis == 0 ? batch : 8;
    }

    /// <summary>Follows a value through shape-only ops to a Gather that uses it as indices; returns the table size.</summary>
    static long? IndexRange(GraphProto graph, string name, Dictionary<string, TensorProto> initializers)
    {
        var frontier = new Queue<string>();
        var seen = new HashSet<string>();
        frontier.Enqueue(name);
        while (frontier.Count > 0)
        {
            var value = frontier.Dequeue();
            if (!seen.Add(value)) continue;
            foreach (var node in graph.Node.Where(n => n.Input.Contains(value)))
            {
                if (node.OpType == "Gather" && node.Input.Count > 1 && node.Input[1] == value && initializers.TryGetValue(node.Input[0], out var table))
                {
                    long axis = node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;
                    if (axis < 0) axis += table.Dims.Count;
                    return table.Dims[(int)axis];
                }
                if (node.OpType is "Cast" or "Reshape" or "Unsqueeze" or "Squeeze" or "Flatten" or "Identity" or "Expand" or "Slice" or "Concat")
                    foreach (var o in node.Output) frontier.Enqueue(o);
            }
        }
        return null;
    }
}
