using System.Text.Json;
using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Tests.Text;

public sealed class TextEncoderConfigTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("evlf-textcfg-").FullName;

    public TextEncoderConfigTests()
    {
        ClipBpeTokenizerTests.Write(dir);
        File.WriteAllBytes(Path.Combine(dir, "text_encoder.onnx"), File.ReadAllBytes(new Onnx.Fixture("clip_text").ModelPath));
    }

    static TextEncoderConfig Clip(Func<TokenizerConfig, TokenizerConfig>? tokenizer = null)
    {
        var config = TextEncoderConfig.Clip("text_encoder.onnx", "vocab.json", "merges.txt", padId: 0);
        return tokenizer is null ? config : config with { Tokenizer = tokenizer(config.Tokenizer) };
    }

    [Fact]
    public void Presets_are_valid()
    {
        Assert.Empty(TextEncoderConfig.MiniLm().FindProblems(dir));
        Assert.Empty(Clip().FindProblems(dir));
        Assert.Equal(77, Clip().Tokenizer.ResolvedMaxLength);
        Assert.Equal(16, TextEncoderConfig.MiniLm().Tokenizer.ResolvedMaxLength);
    }

    [Fact]
    public void Reads_and_writes_bundle_json()
    {
        const string json = """
            {"model": "text_encoder.onnx", "pooling": "last-pad", "output": "last_hidden_state", "hidden_size": 32,
             "tokenizer": {"kind": "clip-bpe", "vocab": "vocab.json", "merges": "merges.txt", "max_length": 8, "pad_id": 0}}
            """;
        var config = JsonSerializer.Deserialize<TextEncoderConfig>(json)!;
        Assert.Equal(PoolingRule.LastPad, config.Pooling);
        Assert.Equal(TokenizerConfig.ClipBpe, config.Tokenizer.Kind);
        Assert.Equal((8, 0L, (long?)null), (config.Tokenizer.MaxLength, config.Tokenizer.PadId!.Value, config.Tokenizer.EosId));
        Assert.Null(config.AttentionMaskName);
        Assert.Equal(32, config.HiddenSize);

        var written = JsonSerializer.Serialize(TextEncoderConfig.MiniLm());
        Assert.Contains("\"pooling\":\"mean\"", written);
        Assert.Contains("\"model\":\"builtin:minilm\"", written);
        Assert.Contains("\"kind\":\"bert-wordpiece\"", written);
        Assert.DoesNotContain("Resolved", written);
        Assert.DoesNotContain("null", written);
        Assert.Equal(TextEncoderConfig.MiniLm(), JsonSerializer.Deserialize<TextEncoderConfig>(written));
    }

    [Fact]
    public void Opens_a_clip_encoder_from_a_bundle_folder()
    {
        var config = Clip(t => t with { MaxLength = 8, EosId = 35 });
        using var encoder = TextEncoder.Open(config, dir);
        using var e = encoder.Encode(new[] { "a photo of a cat.", "at" });
        Assert.Equal(new long[] { 2, 8, 32 }, e.Tokens.shape);
        Assert.Equal(new long[] { 34, 18, 28, 29, 18, 31, 14, 35 }, e.InputIds[0].data<long>().ToArray());
        Assert.Equal(new long[] { 34, 33, 35, 0, 0, 0, 0, 0 }, e.InputIds[1].data<long>().ToArray());
        // Last EOS: 7 in row 0, 2 in row 1 (padding is 0 here).
        Assert.Equal(0f, (e.Pooled[1] - e.Tokens[1, 2]).abs().max().item<float>());
    }

    public static TheoryData<string, Func<TextEncoderConfig, TextEncoderConfig>> Broken => new()
    {
        { "text_encoder.tokenizer.kind is 'sentencepiece'", c => c with { Tokenizer = c.Tokenizer with { Kind = "sentencepiece" } } },
        { "text_encoder.tokenizer.vocab '", c => c with { Tokenizer = c.Tokenizer with { Vocab = "missing.json" } } },
        { "text_encoder.tokenizer.merges is missing", c => c with { Tokenizer = c.Tokenizer with { Merges = null } } },
        { "text_encoder.tokenizer.merges '", c => c with { Tokenizer = c.Tokenizer with { Merges = "missing.txt" } } },
        { "text_encoder.tokenizer.max_length is 1", c => c with { Tokenizer = c.Tokenizer with { MaxLength = 1 } } },
        { "text_encoder.tokenizer.pad_id is 36, outside the vocabulary (ids 0–35)", c => c with { Tokenizer = c.Tokenizer with { PadId = 36 } } },
        { "text_encoder.tokenizer.eos_id is 49407, outside", c => c with { Tokenizer = c.Tokenizer with { EosId = 49407 } } },
        { "text_encoder.tokenizer.bos_id is -1", c => c with { Tokenizer = c.Tokenizer with { BosId = -1 } } },
        { "text_encoder.tokenizer.vocab is 'builtin:minilm', which is a BERT vocabulary", c => c with { Tokenizer = c.Tokenizer with { Vocab = MiniLmResources.Builtin } } },
        { "text_encoder.model '", c => c with { Model = "missing.onnx" } },
        { "text_encoder.output is empty", c => c with { OutputName = "" } },
        { "text_encoder.pooling is 7", c => c with { Pooling = (PoolingRule)7 } },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Each_problem_names_its_field(string expected, Func<TextEncoderConfig, TextEncoderConfig> breakIt)
    {
        var config = breakIt(Clip());
        var problem = Assert.Single(config.FindProblems(dir));
        Assert.StartsWith(expected, problem);
        var e = Assert.Throws<UserInputException>(() => config.Validate(dir));
        Assert.Equal(problem, e.Message);
        Assert.Throws<UserInputException>(() => TextEncoder.Open(config, dir));
    }

    [Fact]
    public void Bert_ids_are_checked_against_the_builtin_vocabulary_and_problems_are_all_listed()
    {
        var config = TextEncoderConfig.MiniLm() with { Tokenizer = TokenizerConfig.MiniLm() with { PadId = 30522, MaxLength = 0 } };
        var problems = config.FindProblems(dir);
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("text_encoder.tokenizer.pad_id is 30522"));
        Assert.Contains(problems, p => p.StartsWith("text_encoder.tokenizer.max_length is 0"));
        Assert.StartsWith("2 problems: ", Assert.Throws<UserInputException>(() => config.Validate(dir)).Message);
    }

    [Fact]
    public void A_clip_vocabulary_without_special_tokens_needs_explicit_ids()
    {
        File.WriteAllText(Path.Combine(dir, "plain.json"), """{"a":0,"a</w>":1}""");
        var config = Clip(t => t with { Vocab = "plain.json" });
        var problems = config.FindProblems(dir);
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("text_encoder.tokenizer.bos_id is not set"));
        Assert.Empty(Clip(t => t with { Vocab = "plain.json", BosId = 0, EosId = 1 }).FindProblems(dir));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
