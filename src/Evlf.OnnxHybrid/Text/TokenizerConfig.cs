using System.Text.Json.Serialization;

namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// The tokenizer part of a bundle's text-encoder section. Paths are relative to the bundle folder and must stay inside
/// it (links followed); <c>builtin:minilm</c> stands for the vocabulary of the MiniLM package (<see cref="MiniLmResources"/>).
/// </summary>
public sealed record TokenizerConfig
{
    public const string BertWordPiece = "bert-wordpiece";
    public const string ClipBpe = "clip-bpe";

    /// <summary><c>bert-wordpiece</c> or <c>clip-bpe</c>.</summary>
    [JsonPropertyName("kind")] public string Kind { get; init; } = BertWordPiece;

    /// <summary>vocab.txt (BERT), vocab.json (CLIP), or <c>builtin:minilm</c>.</summary>
    [JsonPropertyName("vocab")] public string Vocab { get; init; } = MiniLmResources.Builtin;

    /// <summary>merges.txt; CLIP only.</summary>
    [JsonPropertyName("merges"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Merges { get; init; }

    /// <summary>Row length, BOS and EOS included; null: 77 for CLIP, 128 for BERT.</summary>
    [JsonPropertyName("max_length"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? MaxLength { get; init; }

    /// <summary>Null: EOS for CLIP (Stable Diffusion 1.x; OpenCLIP uses 0), the vocabulary's [PAD] for BERT.</summary>
    [JsonPropertyName("pad_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? PadId { get; init; }

    /// <summary>Null: the vocabulary's &lt;|startoftext|&gt; (CLIP) or [CLS] (BERT).</summary>
    [JsonPropertyName("bos_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? BosId { get; init; }

    /// <summary>Null: the vocabulary's &lt;|endoftext|&gt; (CLIP) or [SEP] (BERT).</summary>
    [JsonPropertyName("eos_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? EosId { get; init; }

    [JsonPropertyName("lowercase")] public bool Lowercase { get; init; } = true;

    /// <summary>all-MiniLM-L6-v2's tokenizer from the package; 16 tokens fit our Fashion-MNIST prompts.</summary>
    public static TokenizerConfig MiniLm(int maxLength = 16) => new() { Kind = BertWordPiece, Vocab = MiniLmResources.Builtin, MaxLength = maxLength };

    /// <summary>A CLIP tokenizer; pad id 49407 (EOS) for Stable Diffusion 1.x, 0 for OpenCLIP.</summary>
    public static TokenizerConfig Clip(string vocab, string merges, long? padId = null, int maxLength = ClipBpeTokenizer.DefaultMaxLength) =>
        new() { Kind = ClipBpe, Vocab = vocab, Merges = merges, MaxLength = maxLength, PadId = padId };

    [JsonIgnore] public int ResolvedMaxLength => MaxLength ?? (Kind == ClipBpe ? ClipBpeTokenizer.DefaultMaxLength : 128);

    /// <summary>
    /// Every problem with this configuration, one sentence each naming the field as <paramref name="field"/>.name
    /// (empty when it is usable). Reads the vocabulary to check ids against it. Paths are resolved in
    /// <paramref name="baseDirectory"/> and may not leave it; null: they are the caller's own, used as given.
    /// </summary>
    public IReadOnlyList<string> FindProblems(string? baseDirectory, string field = "tokenizer")
    {
        var problems = new List<string>();
        bool clip = Kind == ClipBpe;
        if (Kind is not (BertWordPiece or ClipBpe))
        {
            problems.Add($"{field}.kind is '{Kind}'; expected '{BertWordPiece}' or '{ClipBpe}'.");
            return problems;
        }
        if (MaxLength is int m && m < 2)
            problems.Add($"{field}.max_length is {m}; it must be at least 2 (room for BOS and EOS).");
        foreach (var (name, id) in new[] { ("pad_id", PadId), ("bos_id", BosId), ("eos_id", EosId) })
            if (id < 0) problems.Add($"{field}.{name} is {id}; ids are not negative.");

        int? size = null;
        Dictionary<string, int>? vocab = null;
        if (string.IsNullOrWhiteSpace(Vocab))
            problems.Add($"{field}.vocab is empty; expected a {(clip ? "vocab.json" : "vocab.txt")} path{(clip ? "" : $" or '{MiniLmResources.Builtin}'")}.");
        else if (Vocab == MiniLmResources.Builtin)
        {
            if (clip) problems.Add($"{field}.vocab is '{MiniLmResources.Builtin}', which is a BERT vocabulary; a {ClipBpe} tokenizer needs a vocab.json path.");
            else size = MiniLmResources.VocabularySize;
        }
        else if (Locate(baseDirectory, Vocab, $"{field}.vocab", problems) is { } path)
        {
            if (clip)
            {
                try { vocab = TokenizerVocabulary.ReadVocabJson(path); size = TokenizerVocabulary.Size(vocab); }
                catch (UserInputException e) { problems.Add($"{field}.vocab: {e.Message}"); }
            }
            else
            {
                try { size = TokenizerVocabulary.CountVocabTxt(path); }
                catch (UserInputException e) { problems.Add($"{field}.vocab: {e.Message}"); }
            }
        }

        if (clip)
        {
            if (string.IsNullOrWhiteSpace(Merges)) problems.Add($"{field}.merges is missing; a {ClipBpe} tokenizer needs a merges.txt path.");
            else Locate(baseDirectory, Merges, $"{field}.merges", problems);
            if (vocab is not null)
            {
                if (BosId is null && !vocab.ContainsKey(ClipBpeTokenizer.StartOfText))
                    problems.Add($"{field}.bos_id is not set and the vocabulary has no '{ClipBpeTokenizer.StartOfText}' entry to take it from.");
                if (EosId is null && !vocab.ContainsKey(ClipBpeTokenizer.EndOfText))
                    problems.Add($"{field}.eos_id is not set and the vocabulary has no '{ClipBpeTokenizer.EndOfText}' entry to take it from.");
            }
        }
        if (size is int n)
            foreach (var (name, id) in new[] { ("pad_id", PadId), ("bos_id", BosId), ("eos_id", EosId) })
                if (id >= n) problems.Add($"{field}.{name} is {id}, outside the vocabulary (ids 0–{n - 1}).");
        return problems;
    }

    /// <summary>Throws <see cref="UserInputException"/> listing every problem <see cref="FindProblems"/> finds.</summary>
    public void Validate(string? baseDirectory, string field = "tokenizer") => Throw(FindProblems(baseDirectory, field));

    /// <summary>Validates, then builds the tokenizer; <paramref name="cacheDirectory"/> is where MiniLM files live (default cache).</summary>
    public ITextTokenizer Create(string? baseDirectory, string field = "tokenizer", string? cacheDirectory = null)
    {
        Validate(baseDirectory, field);
        int maxLength = ResolvedMaxLength;
        if (Kind == ClipBpe)
            return ClipBpeTokenizer.FromFiles(Resolve(baseDirectory, Vocab, field + ".vocab"), Resolve(baseDirectory, Merges!, field + ".merges"), maxLength, PadId, BosId, EosId, Lowercase);
        var vocabPath = Vocab == MiniLmResources.Builtin ? MiniLmResources.Ensure(cacheDirectory).VocabPath : Resolve(baseDirectory, Vocab, field + ".vocab");
        return BertWordPieceTokenizer.FromVocabFile(vocabPath, maxLength, Lowercase, BosId, EosId, PadId);
    }

    /// <summary>
    /// The file <paramref name="path"/> names: inside <paramref name="baseDirectory"/> (links followed; leaving it is a
    /// <see cref="UserInputException"/> naming <paramref name="field"/>), or as given when there is no base folder.
    /// </summary>
    internal static string Resolve(string? baseDirectory, string path, string field) =>
        baseDirectory is null ? Path.GetFullPath(path) : ConfinedPath.Resolve(baseDirectory, path, field);

    /// <summary>As <see cref="Resolve"/>, but a path that leaves the folder, is missing or is no regular file becomes a problem and null.</summary>
    internal static string? Locate(string? baseDirectory, string path, string field, List<string> problems)
    {
        string? resolved = baseDirectory is null ? Path.GetFullPath(path) : ConfinedPath.TryResolve(baseDirectory, path, out var problem) ?? Fail(problem!);
        if (resolved is null) return null;
        switch (PathStatus.Of(resolved).Kind)
        {
            case PathKind.Regular: return resolved;
            case PathKind.Missing: problems.Add($"{field} '{resolved}' was not found."); return null;
            default: problems.Add($"{field} '{resolved}' is not a regular file (a folder, FIFO, socket or device)."); return null;
        }

        string? Fail(string problem)
        {
            problems.Add($"{field} '{path}' {problem}.");
            return null;
        }
    }

    internal static void Throw(IReadOnlyList<string> problems)
    {
        if (problems.Count == 1) throw new UserInputException(problems[0]);
        if (problems.Count > 1)
            throw new UserInputException($"{problems.Count} problems: {string.Join(" ", problems)}");
    }
}
