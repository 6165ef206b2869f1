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

    UserInputException(string option, string problem, Exception? inner) : base($"{option} {problem}", inner)
    {
        Option = option;
        Problem = problem;
    }

    /// <summary>
    /// A problem with one option of a library call, e.g. <c>ForOption("DistillOptions.Ipc", "must be at least 1; got 0.")</c>:
    /// the message is the option's name, a space and <paramref name="problem"/>; a front end names the option its own
    /// way with <see cref="MessageNaming"/> (the command line as its flag).
    /// </summary>
    public static UserInputException ForOption(string option, string problem, Exception? inner = null) => new(option, problem, inner);

    /// <summary>The option the problem is about (<c>Type.Property</c> of the options record), or null.</summary>
    public string? Option { get; }

    /// <summary>The message without the option's name, when <see cref="Option"/> is set.</summary>
    public string? Problem { get; }

    /// <summary>
    /// The message with <see cref="Option"/> named by <paramref name="name"/> (e.g. "DistillOptions.Ipc" → "--ipc"); the
    /// message as it is when the problem is about no one option or <paramref name="name"/> returns null.
    /// </summary>
    public string MessageNaming(Func<string, string?> name) => Option is not null && name(Option) is string n ? $"{n} {Problem}" : Message;

    /// <summary><paramref name="message"/> on one line: its lines trimmed and joined by spaces (for the CLI's one-line errors).</summary>
    public static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
