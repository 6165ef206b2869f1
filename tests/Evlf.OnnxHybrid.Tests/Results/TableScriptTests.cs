using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Tests.Cli.Cluster;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Results;

/// <summary>
/// tools/results/fashion-mnist-table.sh, run against a fake evlf that records each call and leaves what the real one
/// would (manifest.json, eval.json, the report): with ROWS=all it makes every run docs/RESULTS.md holds, with the
/// options EVALUATION.md gives, and a second pass only writes the report again.
/// </summary>
public class TableScriptTests
{
    // The real-start recipe at IPC 50 made on an earlier machine; the script makes the same command as real03-ipc50.
    static readonly string[] EarlierMachineOnly = ["default-ipc50"];

    sealed class FakeRun : IDisposable
    {
        readonly TempDir temp = new();
        public string Runs => temp.Combine("runs");
        public string Log => temp.Combine("calls.txt");
        public string Report => temp.Combine("RESULTS.md");

        public FakeRun() => Shell.Script(temp.Path, "evlf", """
            printf '%s\n' "$*" >> "$FAKE_LOG"
            cmd=$1; shift; out=""; synthetic=""; repeats=1
            while [ $# -gt 0 ]; do
              case $1 in --out) out=$2; shift ;; --synthetic) synthetic=$2; shift ;; --repeats) repeats=$2; shift ;; esac
              shift
            done
            case $cmd in
              distill) mkdir -p "$out/images/0" && echo '{}' > "$out/manifest.json" ;;
              eval) echo "{\"repeats\": $repeats}" > "$synthetic/eval.json" ;;
              report) echo report > "$out" ;;
            esac
            """);

        /// <summary>Runs the script with ROWS and ARGS; returns its result and the calls it made, one per line.</summary>
        public (Shell.Result Result, string[] Calls) Run(string rows, params string[] args)
        {
            File.Delete(Log);
            string script = Path.Combine(RepositoryFolder.Root, "tools", "results", "fashion-mnist-table.sh");
            var environment = new Dictionary<string, string>
            {
                ["FAKE_LOG"] = Log, ["EVLF"] = temp.Combine("evlf"), ["RUNS"] = Runs, ["REPORT"] = Report, ["ROWS"] = rows,
            };
            var result = Shell.BashWith(environment, [script, .. args]);
            return (result, File.Exists(Log) ? File.ReadAllLines(Log) : []);
        }

        public void Dispose() => temp.Dispose();
    }

    static string? DistillOf(string[] calls, string run) =>
        calls.SingleOrDefault(c => c.StartsWith("distill ") && c.Contains($"/{run} "));

    [Fact]
    public void AllRowsMakeEveryRunOfTheResultsTable()
    {
        using var fake = new FakeRun();
        var (result, calls) = fake.Run("all", "3");
        Assert.True(result.ExitCode == 0, result.Stderr);

        string results = File.ReadAllText(Path.Combine(RepositoryFolder.Root, "docs", "RESULTS.md"));
        var tableRuns = Regex.Matches(results, @"`\.\./runs/table/([^/`]+)/`").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.True(tableRuns.Count > 80, $"found only {tableRuns.Count} runs in docs/RESULTS.md");
        var made = Directory.GetDirectories(fake.Runs).Select(Path.GetFileName).ToHashSet();
        Assert.Empty(tableRuns.Except(made!).Except(EarlierMachineOnly));

        // Every run goes into the report, evaluated.
        string report = Assert.Single(calls, c => c.StartsWith("report "));
        foreach (var run in made) Assert.Contains($"{fake.Runs}/{run} ", report + " ");
        foreach (var run in made) Assert.True(File.Exists(Path.Combine(fake.Runs, run!, "eval.json")), $"{run} was not evaluated");
    }

    [Fact]
    public void RowsCarryTheOptionsEvaluationMdGives()
    {
        using var fake = new FakeRun();
        var (result, calls) = fake.Run("all", "3", "1", "50");
        Assert.True(result.ExitCode == 0, result.Stderr);

        // The IPC-50 default: real starts at 0.2 with their detail; its base without EVLF on the same seed.
        Assert.Contains("--start real --strength 0.2 --real-detail --evlf", DistillOf(calls, "default-detail-ipc50"));
        Assert.Contains("--real-detail --no-evlf", DistillOf(calls, "default-detail-no-evlf-ipc50"));
        Assert.Contains("--start real --strength 0.3 --no-real-detail --evlf", DistillOf(calls, "real03-ipc50"));
        // IPC 1: the default chooses discriminatively; the recipe from noise keeps herding's choice, as its rows were made.
        Assert.Contains("--start noise --selection discriminative --evlf", DistillOf(calls, "default-disc-seed1-ipc1"));
        Assert.Contains("--start noise --selection herding --no-evlf", DistillOf(calls, "default-no-evlf-seed2-ipc1"));
        Assert.Null(DistillOf(calls, "default-disc-ipc10"));
        Assert.Contains("--method d4m --no-evlf --preset released --fusion-samples 12000 --ipc 50 --seed 2",
            DistillOf(calls, "d4m-no-evlf-seed2-ipc50"));
        // Soft labels evaluate a copy of the hard-label set, which is never distilled again.
        Assert.Null(DistillOf(calls, "soft-random-ipc50"));
        Assert.Contains(calls, c => c.StartsWith($"eval --synthetic {fake.Runs}/soft-default-real-ipc50 ") && c.EndsWith("--soft-labels rded"));
        // The IPC-50 default's set too (a copy of default-detail-ipc50), and only where the detail is the default.
        Assert.Contains(calls, c => c.StartsWith($"eval --synthetic {fake.Runs}/soft-default-detail-ipc50 ") && c.EndsWith("--soft-labels rded"));
        Assert.DoesNotContain(calls, c => c.Contains("soft-default-detail-ipc1"));
        Assert.True(Directory.Exists(Path.Combine(fake.Runs, "soft-default-real-ipc50", "images", "0")));
    }

    [Fact]
    public void ASecondPassOnlyWritesTheReport()
    {
        using var fake = new FakeRun();
        Assert.Equal(0, fake.Run("released default", "3", "1").Result.ExitCode);
        var (result, calls) = fake.Run("released default", "3", "1");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("report", Assert.Single(calls).Split(' ')[0]);
        // More repeats: every run is evaluated again (evlf eval keeps the finished repeats), nothing distilled.
        (_, calls) = fake.Run("released default", "5", "1");
        Assert.DoesNotContain(calls, c => c.StartsWith("distill "));
        Assert.Contains(calls, c => c.StartsWith($"eval --synthetic {fake.Runs}/default-disc-seed2-ipc1 ") && c.Contains("--repeats 5"));
    }

    [Fact]
    public void OnlySoftRowsMakeTheirSetsWithoutEvaluatingThem()
    {
        using var fake = new FakeRun();
        var (result, calls) = fake.Run("soft", "3", "1");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.NotNull(DistillOf(calls, "random-ipc1"));
        Assert.DoesNotContain(calls, c => c.StartsWith($"eval --synthetic {fake.Runs}/random-ipc1 "));
        Assert.Contains(calls, c => c.StartsWith($"eval --synthetic {fake.Runs}/soft-random-ipc1 "));
        // At IPC 1 the default's set under soft labels as well: a copy of default-disc-ipc1.
        Assert.NotNull(DistillOf(calls, "default-disc-ipc1"));
        Assert.Contains(calls, c => c.StartsWith($"eval --synthetic {fake.Runs}/soft-default-disc-ipc1 ") && c.EndsWith("--soft-labels rded"));
        Assert.DoesNotContain($"{fake.Runs}/random-ipc1 ", Assert.Single(calls, c => c.StartsWith("report ")) + " ");
    }

    [Fact]
    public void AnUnknownGroupIsAUsageError()
    {
        using var fake = new FakeRun();
        var (result, calls) = fake.Run("defaults");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ROWS: unknown group 'defaults'", result.Stderr);
        Assert.Empty(calls);
    }
}
