using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Onnx.Ops;

/// <summary>Kernels for the nodes <see cref="GraphFusion"/> creates (domain ai.evlf.fused).</summary>
static class FusedOps
{
    static Tensor?[] One(Tensor t) => new Tensor?[] { t };

    public static void Register(Dictionary<string, OpKernel> ops)
    {
        ops["Silu"] = c => One(F.silu(c.Input(0)));
        ops["Gelu"] = c => One(c.String("approximate", "none") == "tanh"
            ? F.gelu(c.Input(0), TorchSharp.Modules.GELU.Approximate.tanh)
            : F.gelu(c.Input(0)));
        // Weight [out, in] as F.linear wants it, or [in, out] as torch.onnx stores it (transposed = 1).
        ops["Linear"] = c => One(F.linear(c.Input(0), c.Int("transposed", 0) == 1 ? c.Input(1).t() : c.Input(1), c.Input(2)));
        // γ and β arrive shaped (C, 1, …) or (C,); group_norm wants (C,).
        ops["GroupNorm"] = c => One(F.group_norm(c.Input(0), c.Int("num_groups", 1), c.Input(1).reshape(-1), c.Input(2).reshape(-1), c.Float("epsilon", 1e-5f)));
    }
}
