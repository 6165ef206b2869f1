using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// CLIP's byte-level BPE tokenizer (OpenAI CLIP <c>simple_tokenizer.py</c>; Hugging Face <c>CLIPTokenizer</c>) from a
/// Hugging Face <c>vocab.json</c> + <c>merges.txt</c> pair. Text is cleaned (HTML entities decoded twice, NFC,
/// whitespace runs collapsed, stripped, lower-cased), split with CLIP's pattern, each piece mapped to byte-level
/// symbols with <c>&lt;/w&gt;</c> on its last symbol, then merged by rank. Rows are
/// <c>&lt;|startoftext|&gt; … &lt;|endoftext|&gt; pad…</c> (49406, 49407 in CLIP's vocabulary), truncated so EOS stays
/// last. Pad with EOS (49407) for Stable Diffusion 1.x, with 0 for OpenCLIP.
/// Not reproduced: <c>ftfy.fix_text</c> (mojibake repair), and letters outside the Basic Multilingual Plane count as
/// symbols rather than letters when splitting.
/// </summary>
public sealed class ClipBpeTokenizer : ITextTokenizer
{
    public const int DefaultMaxLength = 77;
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    /// <summary>CLIP's split pattern, verbatim from simple_tokenizer.py (which compiles it with re.IGNORECASE).</summary>
    public const string SplitPattern = @"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

    static readonly Regex Split = new(SplitPattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

    readonly BpeTokenizer tokenizer;

    ClipBpeTokenizer(BpeTokenizer tokenizer, int vocabularySize, int maxLength, long bosId, long eosId, long padId)
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
    /// Loads the vocabulary and merges. BOS and EOS default to the ids of <c>&lt;|startoftext|&gt;</c> and
    /// <c>&lt;|endoftext|&gt;</c> in the vocabulary; the pad id defaults to EOS (Stable Diffusion 1.x).
    /// </summary>
    public static ClipBpeTokenizer FromFiles(string vocabPath, string mergesPath, int maxLength = DefaultMaxLength,
        long? padId = null, long? bosId = null, long? eosId = null, bool lowercase = true)
    {
        if (maxLength < 2)
            throw new UserInputException($"Tokenizer max length must be at least 2 (room for BOS and EOS); found {maxLength}.");
        var vocab = TokenizerVocabulary.ReadVocabJson(vocabPath);
        var merges = ReadMerges(mergesPath);
        int size = TokenizerVocabulary.Size(vocab);

        long bos = bosId ?? (vocab.TryGetValue(StartOfText, out int b) ? b
            : throw new UserInputException($"Tokenizer vocabulary '{vocabPath}' has no '{StartOfText}' entry; give the BOS id explicitly."));
        long eos = eosId ?? (vocab.TryGetValue(EndOfText, out int e) ? e
            : throw new UserInputException($"Tokenizer vocabulary '{vocabPath}' has no '{EndOfText}' entry; give the EOS id explicitly."));
        long pad = padId ?? eos;
        TokenizerVocabulary.CheckSpecialIds(vocabPath, size, bos, eos, pad);

        // Text that spells a special token maps to its id, as in CLIP (its BPE cache holds both).
        var special = new Dictionary<string, int>();
        foreach (var token in new[] { StartOfText, EndOfText })
            if (vocab.TryGetValue(token, out int id)) special[token] = id;

        // Library defaults split words wrongly for CLIP; this is the route that matches it: CLIP's own split
        // pattern as pre-tokenizer, byte-level symbols, "</w>" on each piece's last symbol.
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            PreTokenizer = new RegexPreTokenizer(Split, special),
            SpecialTokens = special,
            Normalizer = new ClipNormalizer(lowercase),
        };
        try
        {
            return new ClipBpeTokenizer(BpeTokenizer.Create(options), size, maxLength, bos, eos, pad);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new UserInputException($"CLIP tokenizer files '{vocabPath}' and '{mergesPath}' do not fit together: {ex.Message.Split('\n')[0].TrimEnd('.')}.", ex);
        }
    }

    static List<string> ReadMerges(string path)
    {
        var bytes = TokenizerVocabulary.ReadFile(path, "Tokenizer merges file");
        var merges = new List<string>();
        int lineNumber = 0;
        using var reader = new StreamReader(new MemoryStream(bytes, writable: false));
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            if (line.Split(' ').Length != 2)
                throw new UserInputException($"Tokenizer merges file '{path}' line {lineNumber} is '{(line.Length > 80 ? line[..80] + "…" : line)}'; expected two symbols separated by one space.");
            merges.Add(line);
        }
        return merges;
    }

    public TokenizedText Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var content = tokenizer.EncodeToIds(text);
        return TokenizedText.Frame(content, BosId, EosId, PadId, MaxLength);
    }

    /// <summary>CLIP's <c>whitespace_clean(basic_clean(text)).lower()</c>, with NFC as in Hugging Face's fast CLIP tokenizer.</summary>
    public static string Clean(string text, bool lowercase = true)
    {
        text = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        text = text.Normalize(NormalizationForm.FormC);
        text = Whitespace.Replace(text, " ").Trim();
        return lowercase ? text.ToLowerInvariant() : text;
    }

    static readonly Regex Whitespace = new(@"\s+", RegexOptions.Compiled);

    sealed class ClipNormalizer(bool lowercase) : Normalizer
    {
        public override string Normalize(string original) => Clean(original, lowercase);
        public override string Normalize(ReadOnlySpan<char> original) => Clean(original.ToString(), lowercase);
    }
}
