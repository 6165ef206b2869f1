namespace Evlf.Cli.Cluster;

/// <summary>Words written into bash scripts so that bash reads them back exactly.</summary>
internal static class Bash
{
    /// <summary>
    /// <paramref name="word"/> as one bash word: as it is when it holds only characters bash gives no meaning
    /// (letters, digits and <c>@%+=:,./-_</c>, as Python's shlex.quote), otherwise in single quotes, an embedded
    /// single quote written as <c>'\''</c>.
    /// </summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(IsPlain) ? word : "'" + word.Replace("'", @"'\''", StringComparison.Ordinal) + "'";

    /// <summary>The words quoted and joined by spaces: a command line.</summary>
    public static string Words(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));

    static bool IsPlain(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '@' or '%' or '+' or '=' or ':' or ',' or '.' or '/' or '-' or '_';
}
