using Microsoft.ML.Tokenizers;

namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// BERT's WordPiece tokenizer (all-MiniLM-L6-v2 and other BERT-family encoders) from a <c>vocab.txt</c>, one token a
/// line, id = line number. Basic tokenization splits on whitespace and punctuation; with <c>lowercase</c> the text is
/// lower-cased and accents are stripped, as Hugging Face's <c>BertTokenizer</c> does for uncased models.
/// Rows are <c>[CLS] … [SEP] [PAD]…</c> (101, 102, 0 in the uncased BERT vocabulary).
/// </summary>
public sealed class BertWordPieceTokenizer : ITextTokenizer
{
    readonly BertTokenizer tokenizer;

    BertWordPieceTokenizer(BertTokenizer tokenizer, int vocabularySize, int maxLength, long bosId, long eosId, long padId)
    {
        this.tokenizer = tokenizer;
        VocabularySize = vocabularySize;
        MaxLength = maxLength;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
    }

    public int MaxLength { get; }
    public int VocabularySize { get; }
    public long BosId { get; }
    public long EosId { get; }
    public long PadId { get; }

    /// <summary>
    /// Loads <paramref name="vocabPath"/>. Special ids default to the vocabulary's own <c>[CLS]</c>, <c>[SEP]</c> and
    /// <c>[PAD]</c>; give them to override.
    /// </summary>
    public static BertWordPieceTokenizer FromVocabFile(string vocabPath, int maxLength = 128, bool lowercase = true,
        long? bosId = null, long? eosId = null, long? padId = null)
    {
        if (maxLength < 2)
            throw new UserInputException($"Tokenizer max length must be at least 2 (room for [CLS] and [SEP]); found {maxLength}.");
        byte[] bytes = TokenizerVocabulary.ReadFile(vocabPath, "BERT vocabulary");
        int size = TokenizerVocabulary.CountLines(bytes);
        BertTokenizer tokenizer;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            tokenizer = BertTokenizer.Create(stream, new BertOptions
            {
                LowerCaseBeforeTokenization = lowercase,
                // Hugging Face strips accents whenever it lower-cases and strip_accents is unset (uncased models).
                RemoveNonSpacingMarks = lowercase,
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IOException)
        {
            throw new UserInputException($"BERT vocabulary '{vocabPath}' could not be read as vocab.txt (one token per line with [CLS], [SEP], [PAD] and [UNK]): {e.Message}", e);
        }
        var result = new BertWordPieceTokenizer(tokenizer, size, maxLength,
            bosId ?? tokenizer.ClassificationTokenId, eosId ?? tokenizer.SeparatorTokenId, padId ?? tokenizer.PaddingTokenId);
        TokenizerVocabulary.CheckSpecialIds(vocabPath, size, result.BosId, result.EosId, result.PadId);
        return result;
    }

    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var content = tokenizer.EncodeToIds(text, addSpecialTokens: false);
        return TokenizedText.Frame(content, BosId, EosId, PadId, MaxLength);
    }
}
