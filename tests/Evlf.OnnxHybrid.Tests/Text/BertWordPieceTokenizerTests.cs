using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Tests.Text;

public sealed class BertWordPieceTokenizerTests
{
    static BertWordPieceTokenizer Tokenizer(int maxLength = 16) => BertWordPieceTokenizer.FromVocabFile(MiniLmTestFiles.Files.VocabPath, maxLength);

    // Fashion-MNIST class names and their WordPiece pieces (greedy longest match in the uncased BERT vocabulary).
    public static TheoryData<string, string[]> FashionMnist => new()
    {
        { "T-shirt/top", new[] { "t", "-", "shirt", "/", "top" } },
        { "Trouser", new[] { "tr", "##ouse", "##r" } },
        { "Pullover", new[] { "pull", "##over" } },
        { "Dress", new[] { "dress" } },
        { "Coat", new[] { "coat" } },
        { "Sandal", new[] { "sand", "##al" } },
        { "Shirt", new[] { "shirt" } },
        { "Sneaker", new[] { "sneak", "##er" } },
        { "Bag", new[] { "bag" } },
        { "Ankle boot", new[] { "ankle", "boot" } },
    };

    [Theory]
    [MemberData(nameof(FashionMnist))]
    public void Fashion_mnist_prompts_match_the_vocabulary(string className, string[] pieces)
    {
        var tokens = new[] { "[CLS]", "a", "photo", "of", "a" }.Concat(pieces).Append("[SEP]").ToArray();
        var expected = tokens.Select(t => MiniLmTestFiles.Vocab[t]).ToList();
        while (expected.Count < 16) expected.Add(MiniLmTestFiles.Vocab["[PAD]"]);

        var t = Tokenizer().Encode($"a photo of a {className}");

        Assert.Equal(expected, t.Ids);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i < tokens.Length ? 1L : 0L), t.AttentionMask);
        // The uncased BERT vocabulary's well-known ids.
        Assert.Equal((101L, 102L, 0L), (t.Ids[0], t.Ids[tokens.Length - 1], t.Ids[15]));
    }

    [Fact]
    public void Lowercases_and_strips_accents_like_uncased_bert()
    {
        var t = Tokenizer().Encode("CAFÉ   Dress");
        Assert.Equal(new[] { 101L, MiniLmTestFiles.Vocab["cafe"], MiniLmTestFiles.Vocab["dress"], 102L }, t.Ids.Take(t.Count));
    }

    [Fact]
    public void Truncation_keeps_sep_last()
    {
        var t = Tokenizer(maxLength: 5).Encode("a photo of a ankle boot");
        var v = MiniLmTestFiles.Vocab;
        Assert.Equal(new[] { v["[CLS]"], v["a"], v["photo"], v["of"], v["[SEP]"] }, t.Ids);
        Assert.All(t.AttentionMask, m => Assert.Equal(1L, m));
    }

    [Fact]
    public void Special_ids_and_size_come_from_the_vocabulary()
    {
        var tok = Tokenizer();
        Assert.Equal((101L, 102L, 0L, 30522), (tok.BosId, tok.EosId, tok.PadId, tok.VocabularySize));
    }

    [Fact]
    public void Bad_inputs_are_user_errors()
    {
        var missing = Path.Combine(Path.GetTempPath(), "evlf-no-such-vocab.txt");
        Assert.Contains(missing, Assert.Throws<UserInputException>(() => BertWordPieceTokenizer.FromVocabFile(missing)).Message);
        Assert.Contains("at least 2", Assert.Throws<UserInputException>(() => BertWordPieceTokenizer.FromVocabFile(MiniLmTestFiles.Files.VocabPath, maxLength: 1)).Message);
        Assert.Contains("pad id 30522", Assert.Throws<UserInputException>(() => BertWordPieceTokenizer.FromVocabFile(MiniLmTestFiles.Files.VocabPath, padId: 30522)).Message);
    }
}
