using Evlf.OnnxHybrid.Output;

namespace Evlf.OnnxHybrid;

/// <summary>
/// Paths that a file names relative to its own folder (a bundle's components and vocabularies, an ONNX model's
/// external-data files) resolved with every link followed, and refused when the result leaves that folder: a
/// downloaded bundle or model must not make evlf read (or write) <c>../../home/user/.ssh/id_rsa</c>, an absolute
/// path, or a link that points out. What is returned is the resolved path, so what was checked is what is opened.
/// </summary>
public static class ConfinedPath
{
    /// <summary>
    /// The resolved path of <paramref name="relative"/> inside <paramref name="root"/>; throws
    /// <see cref="UserInputException"/> "<paramref name="what"/> '<paramref name="relative"/>' …" when it is empty,
    /// absolute, or resolves outside <paramref name="root"/> (through <c>..</c> or a link).
    /// </summary>
    public static string Resolve(string root, string relative, string what)
    {
        var resolved = TryResolve(root, relative, out var problem);
        return resolved ?? throw new UserInputException($"{what} '{relative}' {problem}.");
    }

    /// <summary>
    /// The resolved path, or null with <paramref name="problem"/> set to a sentence fragment
    /// ("is an absolute path; …") for the caller to prefix with what names the path.
    /// </summary>
    public static string? TryResolve(string root, string relative, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(relative))
        {
            problem = "is empty; expected a file name relative to its folder";
            return null;
        }
        if (relative.Contains('\0'))
        {
            problem = "holds a NUL character; expected a file name";
            return null;
        }
        if (Path.IsPathRooted(relative))
        {
            problem = $"is an absolute path; expected a path relative to '{root}' that stays inside it";
            return null;
        }
        string realRoot = ResolvedPath.Of(root);
        string lexical = Path.GetFullPath(Path.Combine(root, relative));
        string resolved = ResolvedPath.Of(lexical);
        if (SamePath(resolved, realRoot))
        {
            problem = "names the folder itself; expected a file inside it";
            return null;
        }
        if (ResolvedPath.IsSameOrInside(resolved, realRoot)) return resolved;
        bool throughLink = ResolvedPath.IsSameOrInside(lexical, Path.GetFullPath(root));
        problem = throughLink
            ? $"leads through a link to '{resolved}', outside '{root}'; expected a file inside that folder"
            : $"resolves to '{resolved}', outside '{root}'; expected a file inside that folder";
        return null;
    }

    static bool SamePath(string a, string b) => ResolvedPath.IsSameOrInside(a, b) && ResolvedPath.IsSameOrInside(b, a);
}
