using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>Element-wise arithmetic, comparisons, logic and activations (ONNX broadcasting = torch broadcasting).</summary>
static class ElementwiseOps
{
    static Tensor?[] One(Tensor t) => new Tensor?[] { t };

    static bool IsIntegral(Tensor t) => t.dtype is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;

    public static void Register(Dictionary<string, OpKernel> ops)
    {
        ops["Add"] = c => One(c.Input(0) + c.Input(1));
        ops["Sub"] = c => One(c.Input(0) - c.Input(1));
        ops["Mul"] = c => One(c.Input(0) * c.Input(1));
        // ONNX integer division truncates toward zero; torch's `/` would return floats.
        ops["Div"] = c => One(IsIntegral(c.Input(0)) ? c.Input(0).div(c.Input(1), RoundingMode.trunc) : c.Input(0) / c.Input(1));
        ops["Mod"] = c => One(c.Int("fmod", 0) == 1 ? c.Input(0).fmod(c.Input(1)) : c.Input(0).remainder(c.Input(1)));
        ops["Pow"] = c => One(PowSameType(c.Input(0), c.Input(1)));
        ops["Neg"] = c => One(-c.Input(0));
        ops["Abs"] = c => One(c.Input(0).abs());
        ops["Sign"] = c => One(c.Input(0).sign());
        ops["Reciprocal"] = c => One(c.Input(0).reciprocal());
        ops["Sqrt"] = c => One(c.Input(0).sqrt());
        ops["Exp"] = c => One(c.Input(0).exp());
        ops["Log"] = c => One(c.Input(0).log());
        ops["Erf"] = c => One(c.Input(0).erf());
        ops["Sin"] = c => One(c.Input(0).sin());
        ops["Cos"] = c => One(c.Input(0).cos());
        ops["Tan"] = c => One(c.Input(0).tan());
        ops["Atan"] = c => One(c.Input(0).atan());
        ops["Floor"] = c => One(c.Input(0).floor());
        ops["Ceil"] = c => One(c.Input(0).ceil());
        ops["Round"] = c => One(c.Input(0).round()); // half to even in both
        ops["Tanh"] = c => One(c.Input(0).tanh());
        ops["Sigmoid"] = c => One(c.Input(0).sigmoid());
        ops["Relu"] = c => One(nn.functional.relu(c.Input(0)));
        ops["LeakyRelu"] = c => One(nn.functional.leaky_relu(c.Input(0), c.Float("alpha", 0.01f)));
        ops["Elu"] = c => One(nn.functional.elu(c.Input(0), c.Float("alpha", 1f)));
        ops["Selu"] = c => One(nn.functional.selu(c.Input(0)));
        ops["Softplus"] = c => One(nn.functional.softplus(c.Input(0)));
        ops["Softsign"] = c => One(c.Input(0) / (c.Input(0).abs() + 1));
        ops["HardSigmoid"] = c => One((c.Input(0) * c.Float("alpha", 0.2f) + c.Float("beta", 0.5f)).clamp(0, 1));
        ops["HardSwish"] = c => One(nn.functional.hardswish(c.Input(0)));
        ops["Mish"] = c => One(nn.functional.mish(c.Input(0)));
        ops["PRelu"] = c => One(torch.where(c.Input(0) >= 0, c.Input(0), c.Input(0) * c.Input(1)));
        ops["Gelu"] = c => One(nn.functional.gelu(c.Input(0),
            c.String("approximate", "none") == "tanh" ? TorchSharp.Modules.GELU.Approximate.tanh : TorchSharp.Modules.GELU.Approximate.none));
        ops["Clip"] = Clip;
        ops["Min"] = c => One(Fold(c, (a, b) => torch.minimum(a, b)));
        ops["Max"] = c => One(Fold(c, (a, b) => torch.maximum(a, b)));
        ops["Sum"] = c => One(Fold(c, (a, b) => a + b));
        ops["Mean"] = c => One(Fold(c, (a, b) => a + b) / c.Inputs.Length);

        ops["Equal"] = c => One(c.Input(0).eq(c.Input(1)));
        ops["Less"] = c => One(c.Input(0).lt(c.Input(1)));
        ops["LessOrEqual"] = c => One(c.Input(0).le(c.Input(1)));
        ops["Greater"] = c => One(c.Input(0).gt(c.Input(1)));
        ops["GreaterOrEqual"] = c => One(c.Input(0).ge(c.Input(1)));
        ops["Not"] = c => One(c.Input(0).logical_not());
        ops["And"] = c => One(c.Input(0).logical_and(c.Input(1)));
        ops["Or"] = c => One(c.Input(0).logical_or(c.Input(1)));
        ops["Xor"] = c => One(c.Input(0).logical_xor(c.Input(1)));
        ops["IsNaN"] = c => One(c.Input(0).isnan());
        ops["IsInf"] = c => One(c.Input(0).isinf());
        ops["Where"] = c => One(torch.where(c.Input(0).to(ScalarType.Bool), c.Input(1), c.Input(2)));

        ops["Cast"] = c => One(c.Input(0).to(OnnxTensor.ToScalarType((int)c.Int("to", 1))));
        ops["CastLike"] = c => One(c.Input(0).to(c.Input(1).dtype));
        ops["Identity"] = c => One(c.Input(0).alias());
    }

    static Tensor Fold(NodeContext c, Func<Tensor, Tensor, Tensor> f)
    {
        Tensor acc = c.Input(0).alias();
        for (int i = 1; i < c.Inputs.Length; i++)
        {
            var next = f(acc, c.Input(i));
            acc.Dispose();
            acc = next;
        }
        return acc;
    }

    // ONNX Pow keeps the base's type (float ^ int -> float); torch would promote int ^ float to float.
    static Tensor PowSameType(Tensor x, Tensor y)
    {
        if (y.NumberOfElements == 1 && y.dim() <= x.dim() && !y.requires_grad)
        {
            double e = y.to(ScalarType.Float64).item<double>();
            if (e == 2.0) return x * x;
            if (e == 0.5) return x.sqrt();
            return x.pow(e).to(x.dtype);
        }
        return x.pow(y.to(x.dtype));
    }

    static Tensor?[] Clip(NodeContext c)
    {
        var x = c.Input(0);
        if (c.Opset < 11)
            return One(x.clamp(c.Float("min", float.NegativeInfinity), c.Float("max", float.PositiveInfinity)));
        var min = c.OptionalInput(1);
        var max = c.OptionalInput(2);
        if (min is null && max is null) return One(x.alias());
        return One(x.clamp(min?.to(x.dtype), max?.to(x.dtype)));
    }
}
