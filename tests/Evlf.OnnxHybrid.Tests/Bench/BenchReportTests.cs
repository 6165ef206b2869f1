using Evlf.Bench;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Bench;

/// <summary>bench.json: what counts as a report evlf wrote, and the checks of its place before any benchmark runs.</summary>
public class BenchReportTests
{
    [Theory]
    [InlineData("""{ "format": "evlf-bench/1", "gemm_1024_gflops": 100.0 }""", true)]
    [InlineData("""{ "machine": { "cores": 2 }, "commit": "abc1234" }""", true)]     // reports from before "format"
    [InlineData("""{ "format": "evlf-eval/1" }""", false)]
    [InlineData("""{ "machine": "laptop", "commit": "abc1234" }""", false)]
    [InlineData("[1, 2]", false)]
    [InlineData("not json", false)]
    public void OnlyItsOwnFormatOrEarlierReportsCountAsWrittenByEvlf(string text, bool expected)
    {
        using var dir = new TempDir();
        string path = dir.Combine(BenchReport.FileName);
        File.WriteAllText(path, text);

        Assert.Equal(expected, BenchReport.IsBenchReport(path));
    }

    [Fact]
    public void AMissingFileIsNoReport() =>
        Assert.False(BenchReport.IsBenchReport(Path.Combine(Path.GetTempPath(), "evlf-no-such-folder", "bench.json")));

    [Fact]
    public void TheReportStartsWithItsFormatMachineCommitAndMode()
    {
        var report = BenchReport.Start(threads: 3, quick: true);

        Assert.Equal(["format", "machine", "commit", "quick"], report.Select(p => p.Key).ToArray());
        Assert.Equal(BenchReport.Format, (string)report["format"]!);
        Assert.Equal(3, (int)report["machine"]!["torch_threads"]!);
        Assert.True((bool)report["quick"]!);
    }

    [Fact]
    public void ThePlaceIsRefusedWhenOutIsAFileOrHoldsAForeignBenchJson()
    {
        using var dir = new TempDir();
        string file = dir.Write("file.txt", [1]);
        Assert.Contains("is a file", Assert.Throws<UserInputException>(() => BenchReport.RequirePlace(new BenchOptions { Out = file })).Message);

        string foreign = dir.Combine("foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, BenchReport.FileName), "[1, 2]");
        Assert.Contains("not written by evlf bench", Assert.Throws<UserInputException>(() => BenchReport.RequirePlace(new BenchOptions { Out = foreign })).Message);
        Assert.Equal("[1, 2]", File.ReadAllText(Path.Combine(foreign, BenchReport.FileName)));
    }

    [Fact]
    public void AnEarlierReportIsReplacedAtomically()
    {
        using var dir = new TempDir();
        string folder = dir.Combine("runs", "bench");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, BenchReport.FileName), """{ "format": "evlf-bench/1", "old": true }""");

        string path = BenchReport.RequirePlace(new BenchOptions { Out = folder });
        BenchReport.Write(path, BenchReport.Start(1, quick: false));

        Assert.Equal(Path.Combine(folder, BenchReport.FileName), path);
        Assert.True(BenchReport.IsBenchReport(path));
        Assert.DoesNotContain("\"old\"", File.ReadAllText(path));
    }
}
