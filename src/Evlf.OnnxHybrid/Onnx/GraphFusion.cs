using Google.Protobuf;
using Onnx;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Rewrites the elementary-op spellings of common layers, as exporters and GraphBuilder emit them, into
/// single fused nodes the importer runs with one TorchSharp call (fewer kernels, fewer saved activations
/// for backward, same numbers):
/// <list type="bullet">
/// <item>SiLU: <c>Mul(x, Sigmoid(x))</c> → <c>F.silu</c>;</item>
/// <item>GELU (erf): <c>Mul(Mul(x, Add(Erf(x·(1/√2) or x/√2), 1)), 0.5)</c> → <c>F.gelu</c>;</item>
/// <item>GELU (tanh): <c>Mul(Mul(x, Add(Tanh(√(2/π)·(x + 0.044715·x³)), 1)), 0.5)</c> → <c>F.gelu(·, tanh)</c>;</item>
/// <item>Linear: <c>Add(MatMul(x, Transpose(W)), b)</c> (GraphBuilder, W stored [out, in]) or <c>Add(MatMul(x, Wᵀ), b)</c>
/// (torch.onnx, the weight stored pre-transposed [in, out]), W and b initializers, b 1-D → <c>F.linear</c>, whose
/// GEMM adds the bias itself instead of a second pass over the output;</item>
/// <item>GroupNorm: <c>Reshape(x,[0,G,−1]) → InstanceNormalization(1, 0) → Reshape(·, Shape(x)) → Mul γ → Add β</c>
/// → <c>F.group_norm</c>.</item>
/// </list>
/// A match requires every inner value to have exactly one reader; the source graph is never modified.
/// ONNX Runtime keeps running the original graph (it has its own fusions).
/// </summary>
public static class GraphFusion
{
    public const string Domain = "ai.evlf.fused";

    sealed class Index
    {
        public readonly Dictionary<string, NodeProto> Producer = new();
        public readonly Dictionary<string, int> Readers = new();
        public readonly Dictionary<string, TensorProto> Constants = new();

        public Index(GraphProto graph)
        {
            foreach (var t in graph.Initializer) Constants[t.Name] = t;
            foreach (var n in graph.Node)
            {
                foreach (var o in n.Output) Producer[o] = n;
                foreach (var i in n.Input) Readers[i] = Readers.GetValueOrDefault(i) + 1;
                if (n.OpType == "Constant" && n.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } t) Constants[n.Output[0]] = t;
            }
            foreach (var o in graph.Output) Readers[o.Name] = Readers.GetValueOrDefault(o.Name) + 1;
        }

        public NodeProto? SoleReaderProducer(string value, string op) =>
            Producer.TryGetValue(value, out var n) && n.OpType == op && Readers.GetValueOrDefault(value) == 1 ? n : null;

        public float[]? Floats(string value) =>
            Constants.TryGetValue(value, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float ? OnnxTensor.ToFloats(t) : null;

        public long[]? Longs(string value) =>
            Constants.TryGetValue(value, out var t) && t.DataType == (int)TensorProto.Types.DataType.Int64 ? OnnxTensor.ToInt64s(t) : null;

        public bool IsScalar(string value, double expected, double tolerance = 1e-6) =>
            Floats(value) is { Length: 1 } f && Math.Abs(f[0] - expected) <= tolerance * Math.Max(1, Math.Abs(expected));
    }

    /// <summary>The graph's nodes with every recognised pattern replaced by one fused node.</summary>
    public static List<NodeProto> Apply(GraphProto graph)
    {
        var index = new Index(graph);
        var removed = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var replacement = new Dictionary<NodeProto, NodeProto>(ReferenceEqualityComparer.Instance);

        foreach (var node in graph.Node)
        {
            if (removed.Contains(node) || replacement.ContainsKey(node)) continue;
            if (node.OpType == "Add" && TryGroupNorm(node, index, removed, out var gn)) replacement[node] = gn!;
            else if (node.OpType == "Add" && TryLinear(node, index, removed, out var linear)) replacement[node] = linear!;
            else if (node.OpType == "Mul" && TryGelu(node, index, removed, out var gelu)) replacement[node] = gelu!;
            else if (node.OpType == "Mul" && TrySilu(node, index, removed, out var silu)) replacement[node] = silu!;
        }

        var result = new List<NodeProto>(graph.Node.Count);
        foreach (var node in graph.Node)
        {
            if (removed.Contains(node)) continue;
            result.Add(replacement.TryGetValue(node, out var r) ? r : node);
        }
        return result;
    }

    static NodeProto Fused(string op, NodeProto last, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Domain = Domain, Name = last.Name + "/fused_" + op };
        n.Input.AddRange(inputs);
        n.Output.Add(last.Output[0]);
        n.Attribute.AddRange(attributes);
        return n;
    }

    static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    static AttributeProto String(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    static bool TrySilu(NodeProto mul, Index ix, HashSet<NodeProto> removed, out NodeProto? fused)
    {
        fused = null;
        for (int k = 0; k < 2; k++)
        {
            string x = mul.Input[k], s = mul.Input[1 - k];
            var sigmoid = ix.SoleReaderProducer(s, "Sigmoid");
            if (sigmoid is null || sigmoid.Input[0] != x || removed.Contains(sigmoid)) continue;
            removed.Add(sigmoid);
            fused = Fused("Silu", mul, new[] { x });
            return true;
        }
        return false;
    }

    /// <summary>Mul(Mul(x, Add(Erf(x/√2), 1)), 0.5) in any operand order; x/√2 as Div by √2 or Mul by 1/√2.</summary>
    static bool TryGelu(NodeProto outer, Index ix, HashSet<NodeProto> removed, out NodeProto? fused)
    {
        fused = null;
        for (int k = 0; k < 2; k++)
        {
            if (!ix.IsScalar(outer.Input[1 - k], 0.5)) continue;
            var inner = ix.SoleReaderProducer(outer.Input[k], "Mul");
            if (inner is null) continue;
            for (int j = 0; j < 2; j++)
            {
                string x = inner.Input[j];
                var add = ix.SoleReaderProducer(inner.Input[1 - j], "Add");
                if (add is null) continue;
                for (int a = 0; a < 2; a++)
                {
                    if (!ix.IsScalar(add.Input[1 - a], 1.0)) continue;
                    if (ix.SoleReaderProducer(add.Input[a], "Tanh") is { } tanh && TanhGeluArgument(tanh.Input[0], x, ix) is { } argument)
                    {
                        foreach (var n in argument.Append(tanh).Append(add).Append(inner)) removed.Add(n);
                        fused = Fused("Gelu", outer, new[] { x }, String("approximate", "tanh"));
                        return true;
                    }
                    var erf = ix.SoleReaderProducer(add.Input[a], "Erf");
                    if (erf is null) continue;
                    var scale = ix.SoleReaderProducer(erf.Input[0], "Mul") ?? ix.SoleReaderProducer(erf.Input[0], "Div");
                    if (scale is null || scale.Input[0] != x) continue;
                    bool ok = scale.OpType == "Mul" ? ix.IsScalar(scale.Input[1], 1 / Math.Sqrt(2)) : ix.IsScalar(scale.Input[1], Math.Sqrt(2));
                    if (!ok) continue;
                    foreach (var n in new[] { inner, add, erf, scale }) removed.Add(n);
                    fused = Fused("Gelu", outer, new[] { x });
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// The nodes computing √(2/π)·(x + 0.044715·x³) from <paramref name="x"/> into <paramref name="value"/>, in any
    /// operand order, the cube as Pow(x, 3) or two Muls (as GraphBuilder and torch.onnx spell it); null when it is not that.
    /// </summary>
    static List<NodeProto>? TanhGeluArgument(string value, string x, Index ix)
    {
        var scale = ix.SoleReaderProducer(value, "Mul");
        if (scale is null) return null;
        for (int s = 0; s < 2; s++)
        {
            if (!ix.IsScalar(scale.Input[1 - s], Math.Sqrt(2 / Math.PI))) continue;
            var sum = ix.SoleReaderProducer(scale.Input[s], "Add");
            if (sum is null) continue;
            for (int a = 0; a < 2; a++)
            {
                if (sum.Input[a] != x) continue;
                var weighted = ix.SoleReaderProducer(sum.Input[1 - a], "Mul");
                if (weighted is null) continue;
                for (int w = 0; w < 2; w++)
                {
                    if (!ix.IsScalar(weighted.Input[1 - w], 0.044715)) continue;
                    if (Cube(weighted.Input[w], x, ix) is { } cube)
                        return cube.Append(weighted).Append(sum).Append(scale).ToList();
                }
            }
        }
        return null;
    }

    /// <summary>The nodes of x³ as Pow(x, 3), Mul(x, Mul(x, x)) or Mul(Mul(x, x), x); null otherwise.</summary>
    static List<NodeProto>? Cube(string value, string x, Index ix)
    {
        if (ix.SoleReaderProducer(value, "Pow") is { } pow)
            return pow.Input[0] == x && ix.IsScalar(pow.Input[1], 3) ? new List<NodeProto> { pow } : null;
        var outer = ix.SoleReaderProducer(value, "Mul");
        if (outer is null) return null;
        for (int k = 0; k < 2; k++)
        {
            if (outer.Input[k] != x) continue;
            var square = ix.SoleReaderProducer(outer.Input[1 - k], "Mul");
            if (square is not null && square.Input[0] == x && square.Input[1] == x) return new List<NodeProto> { square, outer };
        }
        return null;
    }

    static bool TryLinear(NodeProto add, Index ix, HashSet<NodeProto> removed, out NodeProto? fused)
    {
        fused = null;
        for (int k = 0; k < 2; k++)
        {
            var matmul = ix.SoleReaderProducer(add.Input[k], "MatMul");
            string bias = add.Input[1 - k];
            if (matmul is null || removed.Contains(matmul) || !ix.Constants.TryGetValue(bias, out var b) || b.Dims.Count != 1) continue;
            string x = matmul.Input[0], weight = matmul.Input[1];
            // GraphBuilder: the weight [out, in] through Transpose(perm 1, 0); torch.onnx: a constant [in, out].
            var transpose = ix.SoleReaderProducer(weight, "Transpose");
            bool stored = transpose is not null && !removed.Contains(transpose) && ix.Constants.TryGetValue(transpose.Input[0], out var wt)
                && wt.Dims.Count == 2 && wt.Dims[0] == b.Dims[0]
                && transpose.Attribute.FirstOrDefault(a => a.Name == "perm") is { } perm && perm.Ints.SequenceEqual(new long[] { 1, 0 });
            if (stored)
            {
                removed.Add(transpose!);
                removed.Add(matmul);
                fused = Fused("Linear", add, new[] { x, transpose!.Input[0], bias });
                return true;
            }
            if (ix.Constants.TryGetValue(weight, out var w) && w.Dims.Count == 2 && w.Dims[1] == b.Dims[0])
            {
                removed.Add(matmul);
                fused = Fused("Linear", add, new[] { x, weight, bias }, Int("transposed", 1));
                return true;
            }
        }
        return false;
    }

    static bool TryGroupNorm(NodeProto addBeta, Index ix, HashSet<NodeProto> removed, out NodeProto? fused)
    {
        fused = null;
        for (int k = 0; k < 2; k++)
        {
            var mulGamma = ix.SoleReaderProducer(addBeta.Input[k], "Mul");
            if (mulGamma is null) continue;
            string beta = addBeta.Input[1 - k];
            for (int j = 0; j < 2; j++)
            {
                var reshapeBack = ix.SoleReaderProducer(mulGamma.Input[j], "Reshape");
                if (reshapeBack is null) continue;
                string gamma = mulGamma.Input[1 - j];
                var norm = ix.SoleReaderProducer(reshapeBack.Input[0], "InstanceNormalization");
                if (norm is null || norm.Input.Count < 3) continue;
                var grouped = ix.SoleReaderProducer(norm.Input[0], "Reshape");
                if (grouped is null) continue;
                string x = grouped.Input[0];
                // The way back must be Shape(x) (the original shape), and the grouping [0 or N, G, -1].
                if (!ix.Producer.TryGetValue(reshapeBack.Input[1], out var shapeNode) || shapeNode.OpType != "Shape" || shapeNode.Input[0] != x
                    || shapeNode.Attribute.Any(a => a.Name is "start" or "end")) continue;
                if (ix.Longs(grouped.Input[1]) is not { Length: 3 } g || g[2] != -1 || g[1] <= 0) continue;
                if (ix.Floats(norm.Input[1]) is not { } ones || ones.Length != g[1] || ones.Any(v => v != 1f)) continue;
                if (ix.Floats(norm.Input[2]) is not { } zeros || zeros.Length != g[1] || zeros.Any(v => v != 0f)) continue;
                float eps = norm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
                foreach (var n in new[] { mulGamma, reshapeBack, norm, grouped }) removed.Add(n);
                fused = Fused("GroupNorm", addBeta, new[] { x, gamma, beta }, Int("num_groups", g[1]), Float("epsilon", eps));
                return true;
            }
        }
        return false;
    }
}
