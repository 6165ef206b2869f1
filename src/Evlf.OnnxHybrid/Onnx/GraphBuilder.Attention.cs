namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// How <see cref="GraphBuilder.Attention"/> lays out its projections. The defaults are Stable Diffusion's
/// (LDM/diffusers) attention: <c>to_q</c>, <c>to_k</c>, <c>to_v</c> without bias, <c>to_out.0</c> with bias;
/// <see cref="DiT"/> is timm's packed layout (<c>qkv</c> with bias, <c>proj</c>).
/// </summary>
public sealed record AttentionOptions
{
    /// <summary>Width of one head; default dim / heads.</summary>
    public int? HeadDim { get; init; }

    /// <summary>Width of the keys/values input (cross-attention context); default dim.</summary>
    public int? ContextDim { get; init; }

    /// <summary>One Linear <c>qkv</c> (dim → 3·inner) whose output splits into q, k, v; self-attention only.</summary>
    public bool PackedQkv { get; init; }

    public bool QkvBias { get; init; }

    public bool OutBias { get; init; } = true;

    /// <summary>Name of the output projection: <c>to_out.0</c> (SD) or <c>proj</c> (DiT).</summary>
    public string OutName { get; init; } = "to_out.0";

    /// <summary>Dropout on the attention probabilities (train mode only).</summary>
    public double Dropout { get; init; }

    /// <summary>Dropout after the output projection (SD's <c>to_out.1</c>, timm's proj_drop).</summary>
    public double OutDropout { get; init; }

    /// <summary>Overrides the init of every projection weight / bias (default: PyTorch's Linear init).</summary>
    public ParameterInit? WeightInit { get; init; }

    public ParameterInit? BiasInit { get; init; }

    public static AttentionOptions StableDiffusion { get; } = new();

    public static AttentionOptions DiT { get; } = new() { PackedQkv = true, QkvBias = true, OutName = "proj" };
}

/// <summary>Multi-head attention: torch.nn.MultiheadAttention, SD/DiT-style attention, and the core they share.</summary>
public sealed partial class GraphBuilder
{
    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v over <paramref name="heads"/> heads, on batch-first sequences:
    /// q (N, Lq, E), k (N, Lk, E), v (N, Lk, Ev) → (N, Lq, Ev). Heads are split as PyTorch does (E viewed
    /// as (heads, E/heads)); q is scaled before the product (scale default 1/√(E/heads)). The optional
    /// additive float <paramref name="mask"/> broadcasts to (N, heads, Lq, Lk).
    /// </summary>
    public Value ScaledDotProductAttention(Value q, Value k, Value v, int heads, double? scale = null, Value? mask = null, double dropout = 0)
    {
        if (heads <= 0) throw new ArgumentOutOfRangeException(nameof(heads), heads, "Attention needs at least one head.");
        var qs = RequireRank(q, 3, "Attention query");
        var ks = RequireRank(k, 3, "Attention key");
        var vs = RequireRank(v, 3, "Attention value");
        if (qs[^1].Size is long e && e % heads != 0) throw new ArgumentException($"Attention: query width {e} is not divisible by {heads} heads.");
        if (vs[^1].Size is long ev && ev % heads != 0) throw new ArgumentException($"Attention: value width {ev} is not divisible by {heads} heads.");
        if (qs[^1].IsFixed && ks[^1].IsFixed && qs[^1] != ks[^1]) throw new ArgumentException($"Attention: query {Format(qs)} and key {Format(ks)} widths differ.");
        if (ks[1].IsFixed && vs[1].IsFixed && ks[1] != vs[1]) throw new ArgumentException($"Attention: key {Format(ks)} and value {Format(vs)} lengths differ.");
        double s = scale ?? (qs[^1].Size is long width
            ? 1 / Math.Sqrt(width / heads)
            : throw new ArgumentException($"Attention: the query width of '{q.Name}' is unknown; pass the scale."));

        var qh = Transpose(Reshape(q, 0, 0, heads, -1), 0, 2, 1, 3);   // (N, H, Lq, Dh)
        var kt = Transpose(Reshape(k, 0, 0, heads, -1), 0, 2, 3, 1);   // (N, H, Dh, Lk)
        var vh = Transpose(Reshape(v, 0, 0, heads, -1), 0, 2, 1, 3);   // (N, H, Lk, Dv)
        var scores = MatMul(Mul(qh, s), kt);                           // (N, H, Lq, Lk)
        if (mask is { } m) scores = Add(scores, m);
        var probabilities = Dropout(Softmax(scores, -1), dropout);
        var o = MatMul(probabilities, vh);                             // (N, H, Lq, Dv)
        return Reshape(Transpose(o, 0, 2, 1, 3), 0, 0, -1);            // (N, Lq, H·Dv)
    }

    /// <summary>
    /// torch.nn.MultiheadAttention(embedDim, numHeads, batch_first=True): queries from <paramref name="query"/>,
    /// keys and values from <paramref name="key"/>/<paramref name="value"/> (self-attention: pass the same
    /// value three times; attention over [image; text]: pass a Concat). Parameters as PyTorch names them:
    /// <c>in_proj_weight</c> [3E, E] (or <c>q_proj_weight</c>/<c>k_proj_weight</c>/<c>v_proj_weight</c> when
    /// kdim/vdim differ from E), <c>in_proj_bias</c> [3E], <c>out_proj.weight</c>, <c>out_proj.bias</c>.
    /// Default init (PyTorch): in-projections xavier_uniform, in_proj_bias 0, out_proj.weight U(±1/√E),
    /// out_proj.bias 0. Returns the attention output only (need_weights=False).
    /// </summary>
    public Value MultiheadAttention(string name, Value query, Value key, Value value, int embedDim, int numHeads,
        bool bias = true, int? kdim = null, int? vdim = null, double dropout = 0, Value? attnMask = null,
        ParameterInit? weightInit = null, ParameterInit? biasInit = null)
    {
        string full = QualifiedName(name);
        if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention '{full}': embed_dim {embedDim} must be divisible by num_heads {numHeads}.");
        int kd = kdim ?? embedDim, vd = vdim ?? embedDim;
        foreach (var (x, width, what) in new[] { (query, embedDim, "query"), (key, kd, "key"), (value, vd, "value") })
        {
            RequireFloat32(x, $"MultiheadAttention '{full}' {what}");
            RequireRank(x, 3, $"MultiheadAttention '{full}' {what} (batch_first)");
            RequireDim(x, -1, width, $"MultiheadAttention '{full}' {what}");
        }
        long e = embedDim;
        using (Scope(name))
        {
            Value q, k, v;
            if (kd == embedDim && vd == embedDim)
            {
                var w = Parameter("in_proj_weight", new[] { 3 * e, e }, weightInit ?? ParameterInit.XavierUniform());
                Value? b = bias ? Parameter("in_proj_bias", new[] { 3 * e }, biasInit ?? ParameterInit.Zeros) : null;
                if (query == key && key == value)
                {
                    // Self-attention: one packed projection, split afterwards.
                    var packed = MatMul(query, Transpose(w, 1, 0));
                    if (b is { } pb) packed = Add(packed, pb);
                    var parts = Split(packed, -1, e, e, e);
                    (q, k, v) = (parts[0], parts[1], parts[2]);
                }
                else
                {
                    var ws = Split(w, 0, e, e, e);
                    var bs = b is { } pb ? Split(pb, 0, e, e, e) : null;
                    q = Project(query, ws[0], bs?[0]);
                    k = Project(key, ws[1], bs?[1]);
                    v = Project(value, ws[2], bs?[2]);
                }
            }
            else
            {
                var wq = Parameter("q_proj_weight", new[] { e, e }, weightInit ?? ParameterInit.XavierUniform());
                var wk = Parameter("k_proj_weight", new[] { e, kd }, weightInit ?? ParameterInit.XavierUniform());
                var wv = Parameter("v_proj_weight", new[] { e, vd }, weightInit ?? ParameterInit.XavierUniform());
                Value? b = bias ? Parameter("in_proj_bias", new[] { 3 * e }, biasInit ?? ParameterInit.Zeros) : null;
                var bs = b is { } pb ? Split(pb, 0, e, e, e) : null;
                q = Project(query, wq, bs?[0]);
                k = Project(key, wk, bs?[1]);
                v = Project(value, wv, bs?[2]);
            }
            var attended = ScaledDotProductAttention(q, k, v, numHeads, mask: attnMask, dropout: dropout);
            return Linear("out_proj", attended, embedDim, embedDim, bias, weightInit, biasInit ?? ParameterInit.Zeros);
        }
    }

    /// <summary>
    /// Attention with separate projections, as Stable Diffusion's UNet/VAE (<c>to_q</c>, <c>to_k</c>,
    /// <c>to_v</c>, <c>to_out.0</c>) or DiT (<c>qkv</c>, <c>proj</c>; <see cref="AttentionOptions.DiT"/>) name
    /// them. Self-attention when <paramref name="context"/> is null; cross-attention over
    /// <paramref name="context"/> (N, Lk, ContextDim) otherwise. Projections use PyTorch's Linear init
    /// unless overridden.
    /// </summary>
    public Value Attention(string name, Value x, int dim, int heads, Value? context = null,
        AttentionOptions? options = null, Value? attnMask = null)
    {
        var o = options ?? AttentionOptions.StableDiffusion;
        string full = QualifiedName(name);
        if (heads <= 0) throw new ArgumentException($"Attention '{full}' needs at least one head.");
        int headDim = o.HeadDim ?? (dim % heads == 0 ? dim / heads : throw new ArgumentException($"Attention '{full}': dim {dim} is not divisible by {heads} heads; set HeadDim."));
        int inner = headDim * heads;
        int contextDim = o.ContextDim ?? dim;
        using (Scope(name))
        {
            Value q, k, v;
            if (o.PackedQkv)
            {
                if (context is { } c && c != x) throw new ArgumentException($"Attention '{full}': a packed qkv projection is self-attention only.");
                var qkv = Linear("qkv", x, dim, 3 * inner, o.QkvBias, o.WeightInit, o.BiasInit);
                var parts = Split(qkv, -1, inner, inner, inner);
                (q, k, v) = (parts[0], parts[1], parts[2]);
            }
            else
            {
                var kv = context ?? x;
                q = Linear("to_q", x, dim, inner, o.QkvBias, o.WeightInit, o.BiasInit);
                k = Linear("to_k", kv, contextDim, inner, o.QkvBias, o.WeightInit, o.BiasInit);
                v = Linear("to_v", kv, contextDim, inner, o.QkvBias, o.WeightInit, o.BiasInit);
            }
            var attended = ScaledDotProductAttention(q, k, v, heads, 1 / Math.Sqrt(headDim), attnMask, o.Dropout);
            var y = Linear(o.OutName, attended, inner, dim, o.OutBias, o.WeightInit, o.BiasInit);
            return Dropout(y, o.OutDropout);
        }
    }

    Value Project(Value x, Value weight, Value? bias)
    {
        var y = MatMul(x, Transpose(weight, 1, 0));
        return bias is { } b ? Add(y, b) : y;
    }
}
