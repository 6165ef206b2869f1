using Evlf.Cli;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>A full disk, a read-only mount or a protected path is one line (exit 2), not an internal error.</summary>
public class StorageProblemTests
{
    [Theory]
    [InlineData(28)]   // ENOSPC
    [InlineData(30)]   // EROFS
    [InlineData(122)]  // EDQUOT
    public void AFullOrReadOnlyDiskIsOneLine(int errno)
    {
        var problem = EvlfApp.StorageProblem(new AggregateException(new IOException("No space left on device : '/runs/x/0.png'", errno)));
        Assert.NotNull(problem);
        Assert.Contains("/runs/x/0.png", problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void AProtectedPathIsOneLineAndOtherFaultsAreNot()
    {
        Assert.Contains("may not open or write", EvlfApp.StorageProblem(new UnauthorizedAccessException("Access to the path '/sys/x' is denied."))!);
        Assert.Null(EvlfApp.StorageProblem(new IOException("Input/output error", 5)));
        Assert.Null(EvlfApp.StorageProblem(new InvalidOperationException("bug")));
    }
}
