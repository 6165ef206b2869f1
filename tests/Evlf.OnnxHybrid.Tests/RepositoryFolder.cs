namespace Evlf.OnnxHybrid.Tests;

/// <summary>The repository the tests were built from: the first folder above the test binaries holding the solution.</summary>
internal static class RepositoryFolder
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Evlf.OnnxHybrid.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Evlf.OnnxHybrid.sln above {AppContext.BaseDirectory}.");
    }
}
