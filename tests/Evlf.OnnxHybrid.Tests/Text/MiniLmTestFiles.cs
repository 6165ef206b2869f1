using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Tests.Text;

/// <summary>The MiniLM files, extracted once per test build into the test output folder (not the user's cache).</summary>
public static class MiniLmTestFiles
{
    public static string CacheDirectory => Path.Combine(AppContext.BaseDirectory, "minilm-cache");

    static readonly Lazy<MiniLmFiles> files = new(() => MiniLmResources.Ensure(CacheDirectory));

    public static MiniLmFiles Files => files.Value;

    /// <summary>vocab.txt as a token → id map (id = line number), read without the tokenizer library.</summary>
    public static IReadOnlyDictionary<string, long> Vocab => vocab.Value;

    static readonly Lazy<Dictionary<string, long>> vocab = new(() =>
        File.ReadAllLines(Files.VocabPath).Select((token, i) => (token, i)).ToDictionary(x => x.token, x => (long)x.i));
}
