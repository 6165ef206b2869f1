using System.Globalization;
using System.Text;

namespace Evlf.Cli.Cluster;

/// <summary>Scalars written into hand-built YAML so that any YAML 1.1 or 1.2 reader (kubectl, YamlDotNet) reads them back exactly.</summary>
internal static class Yaml
{
    /// <summary>
    /// <paramref name="text"/> as a double-quoted YAML scalar: backslash and double quote escaped, and every character a
    /// YAML reader would not take literally (control characters, the C1 range, line and paragraph separators, the byte
    /// order mark, unpaired surrogates) written as an escape; any other character stays as it is.
    /// </summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"') quoted.Append("\\\"");
            else if (c == '\\') quoted.Append(@"\\");
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) quoted.Append(c).Append(text[++i]);
            else if (c < ' ' || c is >= '\u007f' and <= '\u009f' or '\u2028' or '\u2029' or '\ufeff' || char.IsSurrogate(c))
                quoted.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else quoted.Append(c);
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>A flow sequence of quoted scalars: <c>["a", "b"]</c>.</summary>
    public static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Quote)) + "]";
}
