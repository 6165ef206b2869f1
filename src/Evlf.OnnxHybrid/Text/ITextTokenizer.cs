namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// Turns a prompt into a fixed-length row of token ids for a text encoder: BOS, the text's tokens (truncated so
/// that EOS stays last), EOS, then padding to <see cref="MaxLength"/>.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Length of every encoded row, BOS and EOS included (77 for CLIP).</summary>
    int MaxLength { get; }

    /// <summary>Number of ids in the vocabulary; every id produced is below it.</summary>
    int VocabularySize { get; }

    /// <summary>First id of every row: <c>&lt;|startoftext|&gt;</c> for CLIP, <c>[CLS]</c> for BERT.</summary>
    long BosId { get; }

    /// <summary>Id closing the real tokens: <c>&lt;|endoftext|&gt;</c> for CLIP, <c>[SEP]</c> for BERT.</summary>
    long EosId { get; }

    /// <summary>Id filling the row after EOS.</summary>
    long PadId { get; }

    TokenizedText Encode(string text);

    IReadOnlyList<TokenizedText> EncodeBatch(IEnumerable<string> texts) => texts.Select(Encode).ToList();
}
