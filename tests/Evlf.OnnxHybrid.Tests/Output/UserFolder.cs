namespace Evlf.OnnxHybrid.Tests.Output;

/// <summary>A folder as a user keeps one: a file and a subfolder evlf must never touch.</summary>
public static class UserFolder
{
    /// <summary>Creates <c>root/name</c> holding <c>thesis.tex</c> ("x") and <c>sub/</c>; returns its path.</summary>
    public static string Create(string root, string name)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.WriteAllText(Path.Combine(dir, "thesis.tex"), "x");
        return dir;
    }
}
