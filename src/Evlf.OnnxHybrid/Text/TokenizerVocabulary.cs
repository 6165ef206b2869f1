using System.Text.Json;

namespace Evlf.OnnxHybrid.Text;

/// <summary>Reads tokenizer vocabulary files far enough to know their size and check ids against them.</summary>
public static class TokenizerVocabulary
{
    /// <summary>Largest vocabulary or merges file read: real ones are a few megabytes (CLIP's vocab.json: 1.6 MB).</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    /// <summary>Entries in a BERT <c>vocab.txt</c>: one token a line, id = line number.</summary>
    public static int CountVocabTxt(string path) => CountLines(ReadFile(path, "Tokenizer vocabulary"));

    /// <summary>
    /// The bytes of a tokenizer file; a missing, special (FIFO, device), oversized or unreadable file is a
    /// <see cref="UserInputException"/> naming it.
    /// </summary>
    internal static byte[] ReadFile(string path, string what)
    {
        var status = PathStatus.RequireFile(path, what);
        if (status.Size > MaxFileBytes)
            throw new UserInputException($"{what} '{path}' is {status.Size} bytes, more than the {MaxFileBytes} a tokenizer file may have.");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{what} '{path}' could not be read: {e.Message}", e);
        }
    }

    internal static int CountLines(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return 0;
        int lines = bytes.Count((byte)'\n');
        return bytes[^1] == (byte)'\n' ? lines : lines + 1;
    }

    /// <summary>
    /// The token → id map of a Hugging Face <c>vocab.json</c>; throws <see cref="UserInputException"/> when the file is
    /// not a JSON object of integer ids.
    /// </summary>
    public static Dictionary<string, int> ReadVocabJson(string path)
    {
        var bytes = ReadFile(path, "Tokenizer vocabulary");
        try
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(bytes)
                ?? throw new UserInputException($"Tokenizer vocabulary '{path}' is JSON null; expected an object mapping tokens to ids.");
            foreach (var (token, id) in vocab)
                if (id < 0 || id == int.MaxValue)
                    throw new UserInputException($"Tokenizer vocabulary '{path}' maps '{token}' to id {id}; expected ids from 0 up.");
            return vocab;
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Tokenizer vocabulary '{path}' is not a JSON object mapping tokens to integer ids ({e.Message.Split('\n')[0].TrimEnd('.')}).", e);
        }
    }

    /// <summary>Number of ids a vocab.json defines: one more than its largest id.</summary>
    public static int Size(IReadOnlyDictionary<string, int> vocab) => vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;

    /// <summary>Throws when a BOS, EOS or pad id lies outside [0, <paramref name="vocabularySize"/>).</summary>
    internal static void CheckSpecialIds(string vocabPath, int vocabularySize, long bosId, long eosId, long padId)
    {
        foreach (var (name, id) in new[] { ("BOS", bosId), ("EOS", eosId), ("pad", padId) })
            if (id < 0 || id >= vocabularySize)
                throw new UserInputException($"Tokenizer {name} id {id} is outside the vocabulary '{vocabPath}' (ids 0–{vocabularySize - 1}).");
    }
}
