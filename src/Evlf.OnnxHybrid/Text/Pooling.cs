using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Text;

/// <summary>How one class vector (N, D) is taken from token embeddings (N, L, D).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PoolingRule>))]
public enum PoolingRule
{
    /// <summary>
    /// The first position whose id is EOS: CLIP's pooled output. OpenAI CLIP and Hugging Face take
    /// <c>argmax(input_ids)</c> because EOS (49407) is the largest id, which is the first EOS even when padding repeats
    /// it; newer Hugging Face code takes <c>argmax(input_ids == eos_id)</c>, the same position.
    /// </summary>
    [JsonStringEnumMemberName("eos")] Eos,

    /// <summary>
    /// The last position whose id is EOS: what the EVLF code does ("EOT pooling", docs/PIPELINES.md §2). With
    /// EOS padding (Stable Diffusion 1.x) this is the last pad position L−1 (76), not the real EOS; with pad id 0 it
    /// equals <see cref="Eos"/>.
    /// </summary>
    [JsonStringEnumMemberName("last-pad")] LastPad,

    /// <summary>Attention-mask-weighted mean over positions: sentence-transformers' pooling for all-MiniLM-L6-v2.</summary>
    [JsonStringEnumMemberName("mean")] Mean,

    /// <summary>Position 0 (BOS / [CLS]).</summary>
    [JsonStringEnumMemberName("cls")] Cls,
}

/// <summary>Pooling rules as tensor math; no model or tokenizer involved.</summary>
public static class Pooling
{
    /// <summary>
    /// Pools <paramref name="tokens"/> (N, L, D) to (N, D). <paramref name="inputIds"/> (N, L) is needed by the EOS rules,
    /// <paramref name="attentionMask"/> (N, L) by <see cref="PoolingRule.Mean"/>.
    /// </summary>
    public static Tensor Pool(Tensor tokens, Tensor inputIds, Tensor attentionMask, PoolingRule rule, long eosId)
    {
        if (tokens.dim() != 3)
            throw new ArgumentException($"Token embeddings must be (N, L, D); got shape [{string.Join(",", tokens.shape)}].", nameof(tokens));
        long n = tokens.shape[0], l = tokens.shape[1];
        return rule switch
        {
            PoolingRule.Cls => tokens[.., 0, ..].clone(),
            PoolingRule.Eos or PoolingRule.LastPad => Gather(tokens, EosPositions(inputIds, eosId, last: rule == PoolingRule.LastPad, n, l)),
            PoolingRule.Mean => Mean(tokens, CheckShape(attentionMask, n, l, "attention mask")),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown pooling rule."),
        };
    }

    /// <summary>Per row, the first (or last) position whose id is <paramref name="eosId"/>; throws when a row has none.</summary>
    public static long[] EosPositions(Tensor inputIds, long eosId, bool last)
    {
        if (inputIds.dim() != 2)
            throw new ArgumentException($"Input ids must be (N, L); got shape [{string.Join(",", inputIds.shape)}].", nameof(inputIds));
        return EosPositions(inputIds, eosId, last, inputIds.shape[0], inputIds.shape[1]);
    }

    static long[] EosPositions(Tensor inputIds, long eosId, bool last, long n, long l)
    {
        using var scope = NewDisposeScope();
        var ids = CheckShape(inputIds, n, l, "input ids").to(ScalarType.Int64, CPU).contiguous().data<long>().ToArray();
        var positions = new long[n];
        for (long row = 0; row < n; row++)
        {
            long found = -1;
            for (long i = 0; i < l; i++)
            {
                if (ids[row * l + i] != eosId) continue;
                found = i;
                if (!last) break;
            }
            if (found < 0)
                throw new ArgumentException($"Row {row} of the input ids has no EOS id {eosId}, so EOS pooling has no position to take.");
            positions[row] = found;
        }
        return positions;
    }

    static Tensor Gather(Tensor tokens, long[] positions)
    {
        using var scope = NewDisposeScope();
        var rows = arange(tokens.shape[0], dtype: ScalarType.Int64, device: tokens.device);
        var cols = tensor(positions, dtype: ScalarType.Int64, device: tokens.device);
        return tokens[rows, cols].MoveToOuterDisposeScope();
    }

    static Tensor Mean(Tensor tokens, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var w = mask.to(tokens.dtype, tokens.device).unsqueeze(-1);
        // sentence-transformers clamps the count at 1e-9 so an all-padding row gives zeros, not NaN.
        return ((tokens * w).sum(1) / w.sum(1).clamp_min(1e-9)).MoveToOuterDisposeScope();
    }

    static Tensor CheckShape(Tensor t, long n, long l, string what)
    {
        if (t.dim() != 2 || t.shape[0] != n || t.shape[1] != l)
            throw new ArgumentException($"The {what} must be ({n}, {l}) to match the token embeddings; got shape [{string.Join(",", t.shape)}].");
        return t;
    }
}
