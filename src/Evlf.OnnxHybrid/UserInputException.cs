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
        Options = [option];
    }

    UserInputException(string message, IReadOnlyList<string> options, Exception? inner) : base(message, inner) => Options = options;

    /// <summary>
    /// A problem with one option of a library call, e.g. <c>ForOption("DistillOptions.Ipc", "must be at least 1; got 0.")</c>:
    /// the message is the option's name, a space and <paramref name="problem"/>; a front end names the option its own
    /// way with <see cref="MessageNaming"/> (the command line as its flag).
    /// </summary>
    public static UserInputException ForOption(string option, string problem, Exception? inner = null) => new(option, problem, inner);

    /// <summary>
    /// A problem whose <paramref name="message"/> names several options (or one, not at its start) by their library names,
    /// e.g. "DistillOptions.Out '…' lies inside DistillOptions.Data '…'": <see cref="MessageNaming"/> renames each.
    /// </summary>
    public static UserInputException ForOptions(string message, IEnumerable<string> options, Exception? inner = null) =>
        new(message, options.Distinct().ToArray(), inner);

    /// <summary>The option the problem is about (<c>Type.Property</c> of the options record), or null.</summary>
    public string? Option { get; }

    /// <summary>The message without the option's name, when <see cref="Option"/> is set.</summary>
    public string? Problem { get; }

    /// <summary>Every option the message names by its library name (<see cref="Option"/> among them); empty when none.</summary>
    public IReadOnlyList<string> Options { get; } = [];

    /// <summary>
    /// The message with each of <see cref="Options"/> named by <paramref name="name"/> (e.g. "DistillOptions.Ipc" → a command-line flag);
    /// an option for which <paramref name="name"/> returns null keeps its library name.
    /// </summary>
    public string MessageNaming(Func<string, string?> name)
    {
        if (Option is not null && Problem is not null) return name(Option) is string n ? $"{n} {Problem}" : Message;
        var message = Message;
        // Longest first, so that a name that begins another (Out, Output) never replaces part of it.
        foreach (var option in Options.OrderByDescending(o => o.Length))
            if (name(option) is string flag) message = message.Replace(option, flag, StringComparison.Ordinal);
        return message;
    }

    /// <summary><paramref name="message"/> on one line: its lines trimmed and joined by spaces (for the CLI's one-line errors).</summary>
    public static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
