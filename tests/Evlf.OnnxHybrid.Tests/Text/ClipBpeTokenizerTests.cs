using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Tests.Text;

/// <summary>
/// A hand-made CLIP-format vocabulary (vocab.json + merges.txt as Hugging Face ships them) and ids derived by hand
/// with CLIP's rules: clean, lower-case, split with CLIP's pattern, byte-level symbols, "&lt;/w&gt;" on each piece's
/// last symbol, merge the lowest-ranked pair first.
/// </summary>
public sealed class ClipBpeTokenizerTests : IDisposable
{
    // Byte-level symbols are the characters themselves for printable ASCII; "é" is UTF-8 C3 A9, whose byte-level
    // symbols are "Ã" (U+00C3) and "©" (U+00A9) in CLIP's bytes_to_unicode table.
    internal const string VocabJson = """
        {"!":0,"'":1,".":2,"a":3,"c":4,"d":5,"f":6,"h":7,"i":8,"o":9,"p":10,"t":11,"Ã":12,
         "!</w>":13,".</w>":14,"0</w>":15,"2</w>":16,"4</w>":17,"a</w>":18,"g</w>":19,"s</w>":20,"t</w>":21,
         "o</w>":22,"f</w>":23,"©</w>":24,
         "ho":25,"to</w>":26,"pho":27,"photo</w>":28,"of</w>":29,"ca":30,"cat</w>":31,"'s</w>":32,"at</w>":33,
         "<|startoftext|>":34,"<|endoftext|>":35}
        """;

    // Rank = line order. "a t</w>" ranks below "c a", so "cat" must become [ca, t</w>] → cat</w>, never [c, at</w>].
    internal const string Merges = "#version: 0.2\nh o\nt o</w>\np ho\npho to</w>\no f</w>\nc a\nca t</w>\n' s</w>\na t</w>\n";

    const long Bos = 34, Eos = 35;

    readonly string dir = Directory.CreateTempSubdirectory("evlf-clip-").FullName;

    internal static (string Vocab, string Merges) Write(string dir)
    {
        var vocab = Path.Combine(dir, "vocab.json");
        var merges = Path.Combine(dir, "merges.txt");
        File.WriteAllText(vocab, VocabJson);
        File.WriteAllText(merges, Merges);
        return (vocab, merges);
    }

    ClipBpeTokenizer Tokenizer(int maxLength = 12, long? padId = null)
    {
        var (vocab, merges) = Write(dir);
        return ClipBpeTokenizer.FromFiles(vocab, merges, maxLength, padId);
    }

    static long[] Content(TokenizedText t) => t.Ids.Take(t.Count).ToArray();

    [Theory]
    // a</w> photo</w> of</w> a</w> cat</w> .</w> — "photo" takes four merges: h o, t o</w>, p ho, pho to</w>.
    [InlineData("a photo of a cat.", new long[] { 34, 18, 28, 29, 18, 31, 14, 35 })]
    // it's → i t</w> | 's</w>; "dog" has no merges → d o g</w>; "!!" is one piece → ! !</w>.
    [InlineData("It's  A  DOG!!", new long[] { 34, 8, 21, 32, 18, 5, 9, 19, 0, 13, 35 })]
    // Whitespace runs, tabs and newlines collapse; leading and trailing whitespace goes.
    [InlineData("  photo\t\nof   a  ", new long[] { 34, 28, 29, 18, 35 })]
    // Each digit is its own piece: 2</w> 0</w> 2</w> 4</w>.
    [InlineData("cat 2024", new long[] { 34, 31, 16, 15, 16, 17, 35 })]
    // Byte level: é → Ã ©, "c a" merges, f has no merge: ca f Ã ©</w>.
    [InlineData("Café", new long[] { 34, 30, 6, 12, 24, 35 })]
    [InlineData("at", new long[] { 34, 33, 35 })]
    // Special tokens spelled in the text keep their ids; HTML entities are decoded (CLIP's basic_clean).
    [InlineData("a <|endoftext|> cat&#46;", new long[] { 34, 18, 35, 31, 14, 35 })]
    [InlineData("", new long[] { 34, 35 })]
    public void Encodes_as_derived_by_hand(string text, long[] expected)
    {
        var t = Tokenizer().Encode(text);
        Assert.Equal(expected, Content(t));
        Assert.Equal(12, t.Ids.Length);
        Assert.Equal(12, t.AttentionMask.Length);
    }

    [Fact]
    public void Truncation_keeps_eos_last()
    {
        // Full row: BOS a photo of a cat . EOS (8); five positions keep BOS, three tokens, EOS.
        var t = Tokenizer(maxLength: 5).Encode("a photo of a cat.");
        Assert.Equal(new long[] { Bos, 18, 28, 29, Eos }, t.Ids);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1 }, t.AttentionMask);
    }

    [Theory]
    [InlineData(35L)] // Stable Diffusion 1.x pads with EOS.
    [InlineData(0L)]  // OpenCLIP pads with 0.
    public void Pads_with_the_configured_id(long pad)
    {
        var t = Tokenizer(maxLength: 8, padId: pad).Encode("a cat");
        Assert.Equal(new long[] { Bos, 18, 31, Eos, pad, pad, pad, pad }, t.Ids);
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 0, 0 }, t.AttentionMask);
        Assert.Equal(4, t.Count);
    }

    [Fact]
    public void Pad_defaults_to_eos_and_specials_come_from_the_vocabulary()
    {
        var tok = Tokenizer();
        Assert.Equal((Bos, Eos, Eos), (tok.BosId, tok.EosId, tok.PadId));
        Assert.Equal(36, tok.VocabularySize);
        Assert.Equal(12, tok.MaxLength);
    }

    [Fact]
    public void Cleans_text_like_clip()
    {
        Assert.Equal("a b c", ClipBpeTokenizer.Clean("  A\t\tB \n c  "));
        Assert.Equal("fish & chips", ClipBpeTokenizer.Clean("Fish &amp;amp; Chips"));
    }

    [Fact]
    public void Bad_files_are_user_errors_naming_the_file()
    {
        var (vocab, merges) = Write(dir);
        var missing = Path.Combine(dir, "nope.json");
        Assert.Contains(missing, Assert.Throws<UserInputException>(() => ClipBpeTokenizer.FromFiles(missing, merges)).Message);

        File.WriteAllText(Path.Combine(dir, "bad.txt"), "#version: 0.2\nh o x\n");
        var e = Assert.Throws<UserInputException>(() => ClipBpeTokenizer.FromFiles(vocab, Path.Combine(dir, "bad.txt")));
        Assert.Contains("line 2", e.Message);

        File.WriteAllText(Path.Combine(dir, "list.json"), "[1, 2]");
        Assert.Contains("list.json", Assert.Throws<UserInputException>(() => ClipBpeTokenizer.FromFiles(Path.Combine(dir, "list.json"), merges)).Message);

        Assert.Contains("pad id 36", Assert.Throws<UserInputException>(() => ClipBpeTokenizer.FromFiles(vocab, merges, padId: 36)).Message);
        Assert.Throws<UserInputException>(() => ClipBpeTokenizer.FromFiles(vocab, merges, maxLength: 1));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
