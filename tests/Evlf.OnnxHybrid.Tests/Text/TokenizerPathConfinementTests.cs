using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Tests.Text;

/// <summary>The vocabulary, merges and model a bundle's text encoder names stay inside the bundle.</summary>
public sealed class TokenizerPathConfinementTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-tokpaths-").FullName;
    readonly string bundle, outside;

    public TokenizerPathConfinementTests()
    {
        bundle = Directory.CreateDirectory(Path.Combine(root, "bundle")).FullName;
        outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
        // A complete CLIP tokenizer outside the bundle: were it opened, the configuration would be usable.
        ClipBpeTokenizerTests.Write(outside);
        File.WriteAllBytes(Path.Combine(outside, "text_encoder.onnx"), File.ReadAllBytes(new Onnx.Fixture("clip_text").ModelPath));
        ClipBpeTokenizerTests.Write(bundle);
        File.WriteAllBytes(Path.Combine(bundle, "text_encoder.onnx"), File.ReadAllBytes(new Onnx.Fixture("clip_text").ModelPath));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    static TextEncoderConfig Clip(string vocab = "vocab.json", string merges = "merges.txt", string model = "text_encoder.onnx") =>
        TextEncoderConfig.Clip(model, vocab, merges, padId: 0) with { Tokenizer = TokenizerConfig.Clip(vocab, merges, padId: 0, maxLength: 8) with { EosId = 35 } };

    public static TheoryData<string, string> Escapes => new()
    {
        { "vocab", "../outside/vocab.json" },
        { "vocab", "ABSOLUTE" },
        { "vocab", "LINK" },
        { "merges", "../outside/merges.txt" },
        { "merges", "LINK" },
        { "model", "../outside/text_encoder.onnx" },
        { "model", "ABSOLUTE" },
        { "model", "LINK" },
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public void A_path_out_of_the_bundle_is_a_problem_and_is_not_opened(string field, string spelling)
    {
        string file = field switch { "vocab" => "vocab.json", "merges" => "merges.txt", _ => "text_encoder.onnx" };
        string path = spelling switch
        {
            "ABSOLUTE" => Path.Combine(outside, file),
            "LINK" => "linked-" + file,
            _ => spelling,
        };
        if (spelling == "LINK") File.CreateSymbolicLink(Path.Combine(bundle, path), Path.Combine(outside, file));
        var config = field switch
        {
            "vocab" => Clip(vocab: path),
            "merges" => Clip(merges: path),
            _ => Clip(model: path),
        };
        Assert.Empty(Clip().FindProblems(bundle));

        var problem = Assert.Single(config.FindProblems(bundle));
        Assert.Contains(field, problem);
        Assert.Contains(spelling == "ABSOLUTE" ? "absolute path" : "outside", problem);
        Assert.Throws<UserInputException>(() => TextEncoder.Open(config, bundle));
        if (field != "model") Assert.Throws<UserInputException>(() => config.Tokenizer.Create(bundle));
    }

    [Fact]
    public void A_fifo_named_as_the_vocabulary_is_refused_without_opening_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(bundle, "fifo.json");
        Data.SpecialFiles.MakeFifo(fifo);
        var config = Clip(vocab: "fifo.json");
        var run = Task.Run(() => config.FindProblems(bundle));
        Assert.True(run.Wait(TimeSpan.FromSeconds(20)), "reading a FIFO as the vocabulary hung");
        Assert.Contains(run.Result, p => p.Contains("not a regular file"));
    }
}
