namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// One text as a model sees it: <c>[BOS] tokens… [EOS] pad…</c>, exactly <see cref="ITextTokenizer.MaxLength"/> ids,
/// with 1 in <see cref="AttentionMask"/> for BOS, the tokens and EOS and 0 for padding.
/// </summary>
public sealed record TokenizedText(long[] Ids, long[] AttentionMask)
{
    /// <summary>Number of real (unpadded) positions, BOS and EOS included.</summary>
    public int Count => (int)AttentionMask.Sum();

    /// <summary>
    /// Frames content ids the way both CLIP's <c>tokenize</c> and Hugging Face truncation do: content is cut to
    /// <paramref name="maxLength"/> − 2 so EOS is always the last real token, then padding fills to <paramref name="maxLength"/>.
    /// </summary>
    public static TokenizedText Frame(IReadOnlyList<int> content, long bosId, long eosId, long padId, int maxLength)
    {
        if (maxLength < 2)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "A tokenizer's maximum length must leave room for BOS and EOS (at least 2).");
        int kept = Math.Min(content.Count, maxLength - 2);
        var ids = new long[maxLength];
        var mask = new long[maxLength];
        ids[0] = bosId;
        for (int i = 0; i < kept; i++) ids[i + 1] = content[i];
        ids[kept + 1] = eosId;
        for (int i = 0; i < kept + 2; i++) mask[i] = 1;
        for (int i = kept + 2; i < maxLength; i++) ids[i] = padId;
        return new TokenizedText(ids, mask);
    }
}
