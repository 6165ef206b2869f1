namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Normalisation layers. PyTorch's default init: weight 1, bias 0.</summary>
public sealed partial class GraphBuilder
{
    /// <summary>
    /// torch.nn.GroupNorm on (N, C, *), emitted the way torch exports it: Reshape(N, G, −1) →
    /// InstanceNormalization (constant scale 1 / bias 0 of size G) → Reshape back to Shape(x) →
    /// Mul <c>name.weight</c> (C, 1, …) → Add <c>name.bias</c>.
    /// </summary>
    public Value GroupNorm(string name, Value x, int numGroups, int numChannels, double eps = 1e-5, bool affine = true,
        ParameterInit? weightInit = null, ParameterInit? biasInit = null)
    {
        RequireFloat32(x, "GroupNorm");
        string full = QualifiedName(name);
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm '{full}': {numChannels} channels are not divisible into {numGroups} groups.");
        var shape = Meta(x).Shape ?? throw new ArgumentException($"GroupNorm '{full}': the rank of '{x.Name}' is unknown.");
        if (shape.Length < 2) throw new ArgumentException($"GroupNorm '{full}': '{x.Name}' {Format(shape)} needs (N, C, ...).");
        RequireDim(x, 1, numChannels, $"GroupNorm '{full}'");
        using (Scope(name))
        {
            var grouped = Reshape(x, 0, numGroups, -1);
            var ones = Constant(Enumerable.Repeat(1f, numGroups).ToArray(), numGroups);
            var zeros = Constant(new float[numGroups], numGroups);
            var normalized = Emit1("InstanceNormalization", new Value?[] { grouped, ones, zeros }, ElementType.Float, Meta(grouped).Shape,
                FloatAttr("epsilon", (float)eps));
            var y = Reshape(normalized, Shape(x));
            values[y.Name] = new ValueMeta(ElementType.Float, shape);
            if (!affine) return y;
            var spatialAxes = Enumerable.Range(1, shape.Length - 2).Select(i => (long)i).ToArray();
            var w = Parameter("weight", new long[] { numChannels }, weightInit ?? ParameterInit.Ones);
            var b = Parameter("bias", new long[] { numChannels }, biasInit ?? ParameterInit.Zeros);
            if (spatialAxes.Length > 0)
            {
                w = Unsqueeze(w, spatialAxes);
                b = Unsqueeze(b, spatialAxes);
            }
            return Add(Mul(y, w), b);
        }
    }

    /// <summary>
    /// torch.nn.LayerNorm over the last axis (ONNX LayerNormalization, axis −1). With affine:
    /// <c>name.weight</c> 1 and <c>name.bias</c> 0; without (DiT's eps 1e-6 norms): constant ones/zeros
    /// that are not parameters.
    /// </summary>
    public Value LayerNorm(string name, Value x, int normalizedShape, double eps = 1e-5, bool affine = true,
        ParameterInit? weightInit = null, ParameterInit? biasInit = null)
    {
        RequireFloat32(x, "LayerNorm");
        string full = QualifiedName(name);
        if (normalizedShape <= 0) throw new ArgumentException($"LayerNorm '{full}': normalized size {normalizedShape} must be positive.");
        RequireDim(x, -1, normalizedShape, $"LayerNorm '{full}'");
        using (Scope(name))
        {
            Value scale, bias;
            if (affine)
            {
                scale = Parameter("weight", new long[] { normalizedShape }, weightInit ?? ParameterInit.Ones);
                bias = Parameter("bias", new long[] { normalizedShape }, biasInit ?? ParameterInit.Zeros);
            }
            else
            {
                if (weightInit is not null || biasInit is not null)
                    throw new ArgumentException($"LayerNorm '{full}' has no parameters (affine: false); an init override makes no sense.");
                scale = Constant(Enumerable.Repeat(1f, normalizedShape).ToArray(), normalizedShape);
                bias = Constant(new float[normalizedShape], normalizedShape);
            }
            return Emit1("LayerNormalization", new Value?[] { x, scale, bias }, ElementType.Float, Meta(x).Shape,
                IntAttr("axis", -1), FloatAttr("epsilon", (float)eps));
        }
    }

    /// <summary>
    /// torch.nn.BatchNorm2d in inference form (ONNX BatchNormalization): parameters <c>name.weight</c> 1,
    /// <c>name.bias</c> 0, and frozen buffers <c>name.running_mean</c> 0, <c>name.running_var</c> 1 that
    /// the importer updates in train mode. ONNX momentum = 1 − PyTorch momentum.
    /// </summary>
    public Value BatchNorm2d(string name, Value x, int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true)
    {
        RequireFloat32(x, "BatchNorm2d");
        string full = QualifiedName(name);
        var shape = RequireRank(x, 4, $"BatchNorm2d '{full}'");
        RequireDim(x, 1, numFeatures, $"BatchNorm2d '{full}'");
        if (momentum < 0 || momentum > 1) throw new ArgumentException($"BatchNorm2d '{full}': momentum {momentum} must be in [0, 1].");
        using (Scope(name))
        {
            var c = new long[] { numFeatures };
            Value scale = affine ? Parameter("weight", c, ParameterInit.Ones) : Constant(Enumerable.Repeat(1f, numFeatures).ToArray(), numFeatures);
            Value bias = affine ? Parameter("bias", c, ParameterInit.Zeros) : Constant(new float[numFeatures], numFeatures);
            var mean = Parameter("running_mean", c, ParameterInit.Zeros, trainable: false);
            var variance = Parameter("running_var", c, ParameterInit.Ones, trainable: false);
            return Emit1("BatchNormalization", new Value?[] { x, scale, bias, mean, variance }, ElementType.Float, shape,
                FloatAttr("epsilon", (float)eps), FloatAttr("momentum", (float)(1 - momentum)));
        }
    }
}
