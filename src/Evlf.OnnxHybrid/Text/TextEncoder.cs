using Evlf.OnnxHybrid.Onnx;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// A frozen text encoder run by ONNX Runtime: prompts → tokenizer → ids → model → token embeddings e_text (N, L, D)
/// and a pooled class vector (N, D). The model's signature is checked when it opens. Prompts come formatted by the
/// caller (class names and templates are not this class's business).
/// </summary>
public sealed class TextEncoder : IDisposable
{
    readonly OnnxSession session;
    readonly TextEncoderConfig config;

    TextEncoder(OnnxSession session, ITextTokenizer tokenizer, TextEncoderConfig config, long? hiddenSize)
    {
        this.session = session;
        this.config = config;
        Tokenizer = tokenizer;
        HiddenSize = hiddenSize;
    }

    public ITextTokenizer Tokenizer { get; }

    public PoolingRule Pooling => config.Pooling;

    /// <summary>D, when the model declares it (null for a free dimension).</summary>
    public long? HiddenSize { get; }

    /// <summary>The model file, for messages.</summary>
    public string Label => session.Label;

    /// <summary>Validates <paramref name="config"/>, builds its tokenizer and opens its model.</summary>
    /// <param name="config">The bundle's text_encoder section: model, tokenizer, input and output names, pooling.</param>
    /// <param name="baseDirectory">Folder that paths in the config are relative to and may not leave (the bundle folder); null: the paths are the caller's own, used as given.</param>
    /// <param name="settings">ONNX Runtime session settings (null: <see cref="SessionSettings.Default"/>).</param>
    /// <param name="cacheDirectory">Where the MiniLM files are cached (default <see cref="MiniLmResources.DefaultDirectory"/>).</param>
    public static TextEncoder Open(TextEncoderConfig config, string? baseDirectory = null, SessionSettings? settings = null, string? cacheDirectory = null)
    {
        config.Validate(baseDirectory);
        var tokenizer = config.Tokenizer.Create(baseDirectory, "text_encoder.tokenizer", cacheDirectory);
        return Open(config, tokenizer, baseDirectory, settings, cacheDirectory);
    }

    /// <summary>Opens the model of <paramref name="config"/> with a tokenizer of the caller's (the config's tokenizer section is not used).</summary>
    public static TextEncoder Open(TextEncoderConfig config, ITextTokenizer tokenizer, string? baseDirectory = null, SessionSettings? settings = null, string? cacheDirectory = null)
    {
        TokenizerConfig.Throw(config.FindModelProblems(baseDirectory));
        var modelPath = config.Model == MiniLmResources.Builtin
            ? MiniLmResources.Ensure(cacheDirectory).ModelPath
            : TokenizerConfig.Resolve(baseDirectory, config.Model, "text_encoder.model");
        var session = OnnxSession.Open(modelPath, settings);
        try
        {
            var expected = ExpectedSignature(session, config);
            var mismatch = session.Check(expected);
            if (mismatch.Count > 0)
                throw new UserInputException($"Text encoder '{modelPath}' does not match its configuration: {string.Join("; ", mismatch)} (text_encoder.input_ids, attention_mask, token_type_ids and output name the model's inputs and output).");
            var output = session.Outputs.First(o => o.Name == config.OutputName);
            return new TextEncoder(session, tokenizer, config, output.Dims?[2] ?? config.HiddenSize);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>all-MiniLM-L6-v2 from the package (see <see cref="TextEncoderConfig.MiniLm"/>).</summary>
    public static TextEncoder OpenMiniLm(int maxLength = 16, PoolingRule pooling = PoolingRule.Mean, SessionSettings? settings = null, string? cacheDirectory = null) =>
        Open(TextEncoderConfig.MiniLm(maxLength, pooling), null, settings, cacheDirectory);

    static ModelSignature ExpectedSignature(OnnxSession session, TextEncoderConfig config)
    {
        // Ids may be int32 in some exports; the session converts our int64 ids at the boundary.
        TensorSpec Ids(string name)
        {
            var found = session.Inputs.FirstOrDefault(i => i.Name == name)?.ElementType;
            return new TensorSpec(name, found == TensorElementType.Int32 ? TensorElementType.Int32 : TensorElementType.Int64, 2);
        }
        var inputs = new List<TensorSpec> { Ids(config.InputIdsName) };
        if (config.AttentionMaskName is { } mask) inputs.Add(Ids(mask));
        if (config.TokenTypeIdsName is { } types) inputs.Add(Ids(types));
        var output = new TensorSpec(config.OutputName, TensorElementType.Float, 3, new long?[] { null, null, config.HiddenSize });
        return new ModelSignature(inputs, new[] { output });
    }

    /// <summary>Tokenizes and encodes a batch of prompts.</summary>
    public TextEmbeddings Encode(IReadOnlyList<string> prompts)
    {
        if (prompts.Count == 0) throw new ArgumentException("At least one prompt is needed.", nameof(prompts));
        var rows = Tokenizer.EncodeBatch(prompts);
        long n = rows.Count, l = Tokenizer.MaxLength;
        var ids = new long[n * l];
        var mask = new long[n * l];
        for (int i = 0; i < n; i++)
        {
            rows[i].Ids.CopyTo(ids, i * l);
            rows[i].AttentionMask.CopyTo(mask, i * l);
        }
        return EncodeOwned(tensor(ids, new[] { n, l }), tensor(mask, new[] { n, l }));
    }

    /// <summary>Encodes ids that are already tokenized, (N, L) each; the inputs are copied, not taken over.</summary>
    public TextEmbeddings Encode(Tensor inputIds, Tensor attentionMask)
    {
        if (inputIds.dim() != 2 || !inputIds.shape.SequenceEqual(attentionMask.shape))
            throw new ArgumentException($"Input ids and attention mask must both be (N, L); got [{string.Join(",", inputIds.shape)}] and [{string.Join(",", attentionMask.shape)}].");
        using var scope = NewDisposeScope();
        var ids = inputIds.detach().to(ScalarType.Int64, CPU).clone();
        var mask = attentionMask.detach().to(ScalarType.Int64, CPU).clone();
        var result = EncodeOwned(ids, mask);
        scope.MoveToOuter(result.InputIds, result.AttentionMask, result.Tokens, result.Pooled);
        return result;
    }

    TextEmbeddings EncodeOwned(Tensor inputIds, Tensor attentionMask)
    {
        var feeds = new Dictionary<string, Tensor> { [config.InputIdsName] = inputIds };
        if (config.AttentionMaskName is { } maskName) feeds[maskName] = attentionMask;
        Tensor? types = config.TokenTypeIdsName is null ? null : zeros_like(inputIds);
        if (config.TokenTypeIdsName is { } typesName) feeds[typesName] = types!;

        Tensor tokens;
        try
        {
            tokens = session.Run(feeds, new[] { config.OutputName })[config.OutputName];
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            // Typically ids longer than the model's position table, or ids outside its vocabulary.
            throw new UserInputException($"Text encoder '{Label}' failed on ids of shape ({inputIds.shape[0]}, {inputIds.shape[1]}) (max id {inputIds.max().item<long>()}): {e.Message.Split('\n')[0].TrimEnd('.')}; check text_encoder.tokenizer.max_length and the vocabulary against the model.", e);
        }
        finally
        {
            types?.Dispose();
        }
        if (tokens.dim() != 3 || tokens.shape[0] != inputIds.shape[0] || tokens.shape[1] != inputIds.shape[1]
            || (HiddenSize is long d && tokens.shape[2] != d))
        {
            var shape = string.Join(",", tokens.shape);
            tokens.Dispose();
            throw new UserInputException($"Text encoder '{Label}' output '{config.OutputName}' has shape [{shape}]; expected (N, L, D) = ({inputIds.shape[0]}, {inputIds.shape[1]}, {HiddenSize?.ToString() ?? "D"}).");
        }
        var pooled = Text.Pooling.Pool(tokens, inputIds, attentionMask, config.Pooling, Tokenizer.EosId);
        return new TextEmbeddings(inputIds, attentionMask, tokens, pooled);
    }

    public void Dispose() => session.Dispose();
}
