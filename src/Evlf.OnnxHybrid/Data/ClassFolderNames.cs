using System.Globalization;
using System.Text;

namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Turns class names into folder names that are safe on Linux, Windows and macOS and cannot escape the folder
/// they are created in. Deterministic: the same class list always gives the same folders.
/// </summary>
public static class ClassFolderNames
{
    /// <summary>Longest folder name produced, in UTF-16 units (well under the 255-byte limit of common file systems).</summary>
    public const int MaxLength = 100;

    private static readonly HashSet<string> WindowsDeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    /// <summary>
    /// Folder names for <paramref name="classNames"/>, in order, unique even where the file system ignores case:
    /// a name that collides with an earlier one gets "~&lt;label&gt;" appended.
    /// </summary>
    public static IReadOnlyList<string> Assign(IReadOnlyList<string> classNames)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var folders = new string[classNames.Count];
        for (int label = 0; label < classNames.Count; label++)
        {
            var folder = Sanitize(classNames[label], label);
            while (!taken.Add(folder)) folder = $"{folder}~{label}";
            folders[label] = folder;
        }
        return folders;
    }

    /// <summary>
    /// The folder name for one class name. Path separators and characters Windows forbids (/ \ : * ? " &lt; &gt; |)
    /// become '_'; leading spaces and trailing spaces and dots are removed; a leading '.' gets a '_' prefix (no
    /// hidden folders); Windows device names (CON, NUL, COM1, …) get a '_' suffix; long names are cut to
    /// <see cref="MaxLength"/>. A name that is empty, only dots and spaces (".", ".."), or holds control
    /// characters is refused with a <see cref="UserInputException"/>: it names no sensible folder.
    /// </summary>
    public static string Sanitize(string className, int? label = null)
    {
        string which = label is { } l ? $"Class name #{l} " : "Class name ";
        if (string.IsNullOrWhiteSpace(className))
            throw new UserInputException($"{which}'{Escape(className ?? "")}' is empty; expected a name with at least one visible character.");
        foreach (var ch in className)
            if (char.IsControl(ch))
                throw new UserInputException($"{which}'{Escape(className)}' contains control character U+{(int)ch:X4}; expected printable text.");

        var sb = new StringBuilder(className.Length);
        foreach (var ch in className)
            sb.Append(ch is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' ? '_' : ch);
        var name = sb.ToString().TrimStart(' ').TrimEnd(' ', '.');
        if (name.Length == 0)
            throw new UserInputException(
                $"{which}'{Escape(className)}' cannot be a folder name: it is only dots and spaces, which would point at or above the output folder.");
        if (name[0] == '.') name = "_" + name;
        var stem = name.Split('.')[0];
        if (WindowsDeviceNames.Contains(stem)) name = stem + "_" + name[stem.Length..];
        if (name.Length > MaxLength)
        {
            int cut = MaxLength;
            if (char.IsHighSurrogate(name[cut - 1])) cut--;
            name = name[..cut].TrimEnd(' ', '.');
        }
        return name;
    }

    /// <summary>Whether <paramref name="folder"/> is already a name <see cref="Sanitize"/> leaves unchanged.</summary>
    public static bool IsSafe(string folder)
    {
        try
        {
            return Sanitize(folder) == folder;
        }
        catch (UserInputException)
        {
            return false;
        }
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var ch in s)
            sb.Append(char.IsControl(ch) ? $"\\u{(int)ch:X4}" : ch.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }
}
