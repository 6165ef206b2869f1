using System.Text.Json.Serialization;

namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// A bundle's text-encoder section: the ONNX model (path relative to the bundle and inside it, or <c>builtin:minilm</c>), its
/// tokenizer, the pooling rule for the class vector, and the model's input and output names. An input whose name is
/// null is not fed (CLIP text encoders take only <c>input_ids</c>; BERT also takes a mask and token types).
/// </summary>
public sealed record TextEncoderConfig
{
    [JsonPropertyName("model")] public string Model { get; init; } = MiniLmResources.Builtin;

    [JsonPropertyName("tokenizer")] public TokenizerConfig Tokenizer { get; init; } = TokenizerConfig.MiniLm();

    [JsonPropertyName("pooling")] public PoolingRule Pooling { get; init; } = PoolingRule.Mean;

    [JsonPropertyName("input_ids")] public string InputIdsName { get; init; } = "input_ids";

    [JsonPropertyName("attention_mask"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? AttentionMaskName { get; init; }

    [JsonPropertyName("token_type_ids"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? TokenTypeIdsName { get; init; }

    /// <summary>The (N, L, D) token-embedding output.</summary>
    [JsonPropertyName("output")] public string OutputName { get; init; } = "last_hidden_state";

    /// <summary>Expected D, checked against the model when it loads; null: take the model's.</summary>
    [JsonPropertyName("hidden_size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? HiddenSize { get; init; }

    /// <summary>all-MiniLM-L6-v2 from the package: token embeddings (L, 384), mean pooling as sentence-transformers does.</summary>
    public static TextEncoderConfig MiniLm(int maxLength = 16, PoolingRule pooling = PoolingRule.Mean) => new()
    {
        Model = MiniLmResources.Builtin,
        Tokenizer = TokenizerConfig.MiniLm(maxLength),
        Pooling = pooling,
        AttentionMaskName = "attention_mask",
        TokenTypeIdsName = "token_type_ids",
        HiddenSize = MiniLmResources.HiddenSize,
    };

    /// <summary>
    /// A CLIP text encoder exported with input <c>input_ids</c> and output <c>last_hidden_state</c>; pooling defaults to
    /// EVLF's last-pad rule, pad id to EOS (Stable Diffusion 1.x).
    /// </summary>
    public static TextEncoderConfig Clip(string model, string vocab, string merges, long? padId = null, PoolingRule pooling = PoolingRule.LastPad) => new()
    {
        Model = model,
        Tokenizer = TokenizerConfig.Clip(vocab, merges, padId),
        Pooling = pooling,
    };

    /// <summary>Every problem in this section and its tokenizer, one sentence each naming the field under <paramref name="field"/>.</summary>
    public IReadOnlyList<string> FindProblems(string? baseDirectory, string field = "text_encoder")
    {
        var problems = FindModelProblems(baseDirectory, field).ToList();
        if (Tokenizer is null)
            problems.Add($"{field}.tokenizer is missing.");
        else
            problems.AddRange(Tokenizer.FindProblems(baseDirectory, field + ".tokenizer"));
        return problems;
    }

    /// <summary>The problems of this section's own fields, the tokenizer left out.</summary>
    public IReadOnlyList<string> FindModelProblems(string? baseDirectory, string field = "text_encoder")
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Model))
            problems.Add($"{field}.model is empty; expected an ONNX file path or '{MiniLmResources.Builtin}'.");
        else if (Model != MiniLmResources.Builtin)
            TokenizerConfig.Locate(baseDirectory, Model, $"{field}.model", problems);
        if (!Enum.IsDefined(Pooling))
            problems.Add($"{field}.pooling is {(int)Pooling}; expected eos, last-pad, mean or cls.");
        if (string.IsNullOrWhiteSpace(InputIdsName))
            problems.Add($"{field}.input_ids is empty; expected the model's token-id input name.");
        if (string.IsNullOrWhiteSpace(OutputName))
            problems.Add($"{field}.output is empty; expected the model's token-embedding output name.");
        if (AttentionMaskName == "" || TokenTypeIdsName == "")
            problems.Add($"{field}.{(AttentionMaskName == "" ? "attention_mask" : "token_type_ids")} is empty; give the input's name or leave it out.");
        if (HiddenSize is int d && d < 1)
            problems.Add($"{field}.hidden_size is {d}; expected a positive size.");
        return problems;
    }

    /// <summary>Throws <see cref="UserInputException"/> listing every problem <see cref="FindProblems"/> finds.</summary>
    public void Validate(string? baseDirectory, string field = "text_encoder") => TokenizerConfig.Throw(FindProblems(baseDirectory, field));
}
