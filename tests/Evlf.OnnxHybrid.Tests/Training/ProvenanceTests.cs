using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Tests.Training;

/// <summary>Provenance comes from the library as built: its package version, and the commit Source Link stamped into it.</summary>
public class ProvenanceTests
{
    [Theory]
    [InlineData("0.2.0-preview.1+a8371f3b6f6cb90c32681dc05c616c249bff68e4", "a8371f3")]
    [InlineData("0.2.0-preview.1", "unknown")]
    [InlineData("0.2.0-preview.1+local", "unknown")]
    [InlineData("1.0.0+abc", "unknown")]
    public void TheCommitIsTheHexAfterThePlus(string informational, string commit) =>
        Assert.Equal(commit, Provenance.CommitOf(informational));

    [Fact]
    public void TheLibraryVersionIsThePackageVersion()
    {
        var assembly = typeof(Provenance).Assembly;
        Assert.StartsWith("0.2.0-preview.", Provenance.LibraryVersion);
        Assert.Equal(Provenance.CommitOf(Provenance.LibraryVersion), Provenance.LibraryCommit);
        Assert.Equal(assembly.GetName().Version!.ToString(3), Provenance.LibraryVersion.Split('-', '+')[0]);
    }
}
