using Evlf.OnnxHybrid.Tests.Onnx;
using Evlf.OnnxHybrid.Text;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Text;

public sealed class TextEncoderTests
{
    static float MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void MiniLm_token_embeddings_match_a_plain_onnx_runtime_call()
    {
        string[] prompts = { "a photo of a dress", "a photo of a coat", "a photo of a bag" };
        const int l = 16;

        // Reference: ids looked up in vocab.txt by hand, the extracted model run by ONNX Runtime directly.
        var v = MiniLmTestFiles.Vocab;
        var ids = new long[prompts.Length * l];
        var mask = new long[prompts.Length * l];
        for (int i = 0; i < prompts.Length; i++)
        {
            var row = new[] { "[CLS]" }.Concat(prompts[i].Split(' ')).Append("[SEP]").Select(t => v[t]).ToArray();
            row.CopyTo(ids, i * l);
            for (int j = 0; j < row.Length; j++) mask[i * l + j] = 1;
        }
        var shape = new long[] { prompts.Length, l };
        float[] reference;
        using (var plain = new InferenceSession(MiniLmTestFiles.Files.ModelPath))
        using (var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape))
        using (var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape))
        using (var typesValue = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape))
        using (var runOptions = new RunOptions())
        using (var results = plain.Run(runOptions, new Dictionary<string, OrtValue>
               { ["input_ids"] = idsValue, ["attention_mask"] = maskValue, ["token_type_ids"] = typesValue }, new[] { "last_hidden_state" }))
            reference = results[0].GetTensorDataAsSpan<float>().ToArray();

        using var encoder = TextEncoder.OpenMiniLm(maxLength: l, cacheDirectory: MiniLmTestFiles.CacheDirectory);
        using var e = encoder.Encode(prompts);

        Assert.Equal(ids, e.InputIds.data<long>().ToArray());
        Assert.Equal(mask, e.AttentionMask.data<long>().ToArray());
        Assert.Equal(new long[] { 3, l, 384 }, e.Tokens.shape);
        Assert.Equal(ScalarType.Float32, e.Tokens.dtype);
        using var expected = tensor(reference, new long[] { 3, l, 384 });
        Assert.True(MaxAbsDiff(e.Tokens, expected) <= 1e-5f, $"max abs diff {MaxAbsDiff(e.Tokens, expected)}");

        // Mean pooling = the sentence-transformers embedding before normalisation.
        Assert.Equal(new long[] { 3, 384 }, e.Pooled.shape);
        using var m = tensor(mask, shape, dtype: ScalarType.Float32).unsqueeze(-1);
        using var mean = (expected * m).sum(1) / m.sum(1);
        Assert.True(MaxAbsDiff(e.Pooled, mean) <= 1e-5f);
        Assert.Equal(384L, encoder.HiddenSize);
    }

    /// <summary>The CLIP fixture has no tokenizer of its own; its ids come from the fixture files.</summary>
    sealed class FixtureTokenizer : ITextTokenizer
    {
        public int MaxLength => 8;
        public int VocabularySize => 100;
        public long BosId => 0;
        public long EosId => 99;
        public long PadId => 0;
        public TokenizedText Encode(string text) => throw new NotSupportedException();
    }

    static TextEncoder OpenClipFixture(PoolingRule pooling) =>
        TextEncoder.Open(new TextEncoderConfig { Model = new Fixture("clip_text").ModelPath, Pooling = pooling }, new FixtureTokenizer());

    [Fact]
    public void Clip_eos_pooling_equals_the_models_pooler_output()
    {
        var fixture = new Fixture("clip_text");
        var inputs = fixture.Inputs();
        var outputs = fixture.Outputs();
        var ids = inputs["input_ids"];
        // Row 0 ends with EOS 99; row 1 has EOS at 5, then pad 0 (fixture meta.json).
        Assert.Equal(new long[] { 7, 5 }, Pooling.EosPositions(ids, 99, last: false));

        using var encoder = OpenClipFixture(PoolingRule.Eos);
        using var e = encoder.Encode(ids, ones_like(ids));

        Assert.True(MaxAbsDiff(e.Tokens, outputs["last_hidden_state"]) <= 1e-5f);
        Assert.True(MaxAbsDiff(e.Pooled, outputs["pooler_output"]) <= 1e-5f, $"max abs diff {MaxAbsDiff(e.Pooled, outputs["pooler_output"])}");
    }

    [Fact]
    public void Clip_last_pad_pooling_takes_the_last_eos_when_padding_with_eos()
    {
        // Pad row 1 with EOS as Stable Diffusion 1.x does: EOS at 5, 6, 7.
        var ids = new Fixture("clip_text").Inputs()["input_ids"].clone();
        ids[1, 6] = tensor(99L);
        ids[1, 7] = tensor(99L);

        using var eos = OpenClipFixture(PoolingRule.Eos);
        using var lastPad = OpenClipFixture(PoolingRule.LastPad);
        using var first = eos.Encode(ids, ones_like(ids));
        using var last = lastPad.Encode(ids, ones_like(ids));

        // The model's own pooler (argmax over ids) picks the first EOS, position 5.
        using var plain = new InferenceSession(new Fixture("clip_text").ModelPath);
        var data = ids.data<long>().ToArray();
        using var idsValue = OrtValue.CreateTensorValueFromMemory(data, new long[] { 2, 8 });
        using var runOptions = new RunOptions();
        using var results = plain.Run(runOptions, new Dictionary<string, OrtValue> { ["input_ids"] = idsValue }, new[] { "pooler_output" });
        using var pooler = tensor(results[0].GetTensorDataAsSpan<float>().ToArray(), new long[] { 2, 32 });
        Assert.True(MaxAbsDiff(first.Pooled, pooler) <= 1e-5f);

        Assert.True(MaxAbsDiff(last.Pooled[1], last.Tokens[1, 7]) == 0f);
        Assert.True(MaxAbsDiff(last.Pooled[1], first.Pooled[1]) > 1e-3f, "a causal encoder's states at 5 and 7 differ");
        Assert.True(MaxAbsDiff(last.Pooled[0], first.Pooled[0]) == 0f, "row 0 has one EOS, at 7");
    }

    [Fact]
    public void A_model_that_does_not_match_its_configuration_is_a_user_error()
    {
        var path = new Fixture("clip_text").ModelPath;
        var e = Assert.Throws<UserInputException>(() => TextEncoder.Open(
            new TextEncoderConfig { Model = path, AttentionMaskName = "attention_mask" }, new FixtureTokenizer()));
        Assert.Contains("'attention_mask' is missing", e.Message);

        e = Assert.Throws<UserInputException>(() => TextEncoder.Open(
            new TextEncoderConfig { Model = path, OutputName = "hidden_states" }, new FixtureTokenizer()));
        Assert.Contains("'hidden_states' is missing", e.Message);

        e = Assert.Throws<UserInputException>(() => TextEncoder.Open(
            new TextEncoderConfig { Model = path, HiddenSize = 768 }, new FixtureTokenizer()));
        Assert.Contains("expected 768", e.Message);

        // The BERT fixture takes a mask and token types that a CLIP-style configuration does not feed.
        e = Assert.Throws<UserInputException>(() => TextEncoder.Open(
            new TextEncoderConfig { Model = new Fixture("bert_text").ModelPath }, new FixtureTokenizer()));
        Assert.Contains("'attention_mask' is not expected", e.Message);

        e = Assert.Throws<UserInputException>(() => TextEncoder.Open(
            new TextEncoderConfig { Model = "no-such-model.onnx" }, new FixtureTokenizer()));
        Assert.Contains("text_encoder.model", e.Message);
    }

    [Fact]
    public void Ids_the_model_cannot_take_are_a_user_error()
    {
        // The fixture's position table has 16 entries (meta.json max_pos).
        using var encoder = OpenClipFixture(PoolingRule.Eos);
        var ids = full(new long[] { 1, 20 }, 99L, dtype: ScalarType.Int64);
        var e = Assert.Throws<UserInputException>(() => encoder.Encode(ids, ones_like(ids)));
        Assert.Contains("max_length", e.Message);
    }

    [Fact]
    public void A_bert_style_configuration_feeds_mask_and_token_types()
    {
        var fixture = new Fixture("bert_text");
        var inputs = fixture.Inputs();
        var config = new TextEncoderConfig
        {
            Model = fixture.ModelPath, Pooling = PoolingRule.Cls,
            AttentionMaskName = "attention_mask", TokenTypeIdsName = "token_type_ids",
        };
        Assert.All(inputs["token_type_ids"].data<long>().ToArray(), t => Assert.Equal(0L, t)); // we feed zeros
        using var encoder = TextEncoder.Open(config, new FixtureTokenizer());
        using var e = encoder.Encode(inputs["input_ids"], inputs["attention_mask"]);
        Assert.True(MaxAbsDiff(e.Tokens, fixture.Outputs()["last_hidden_state"]) <= 1e-5f);
        Assert.True(MaxAbsDiff(e.Pooled, e.Tokens[.., 0]) == 0f);
    }
}
