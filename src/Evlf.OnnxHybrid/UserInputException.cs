namespace Evlf.OnnxHybrid;

/// <summary>
/// A problem the user can fix: a bad path, a corrupt file, a model with the wrong signature, inconsistent
/// options. The message is one sentence naming the thing, what was expected and what was found; the
/// command line prints it without a stack trace and exits with code 2.
/// </summary>
public sealed class UserInputException : Exception
{
    public UserInputException(string message) : base(message) { }
    public UserInputException(string message, Exception inner) : base(message, inner) { }

    /// <summary><paramref name="message"/> on one line: its lines trimmed and joined by spaces (for the CLI's one-line errors).</summary>
    public static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
