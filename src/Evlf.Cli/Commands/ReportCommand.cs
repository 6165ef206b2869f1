using System.ComponentModel;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Evaluation.Metrics;
using Evlf.OnnxHybrid.Evaluation.Reports;
using Evlf.OnnxHybrid.Training;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf report RUN_DIR... [--out docs/RESULTS.md] [--data SPEC] [--pending LABEL:IPC[:REASON]]... [--knn 20] [--real-per-class 1000] [--no-metrics] [--agreement [--teacher-cache DIR]] [--quiet]`</summary>
internal sealed class ReportCommand : Command<ReportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN_DIR>")]
        [Description("Run folders (manifest.json, optionally eval.json and images/), as evlf distill and evlf eval write them.")]
        public string[] Runs { get; init; } = [];

        [CommandOption("--out <FILE>")]
        [Description("The markdown file to write; figures go to a figures/ folder beside it.")]
        [DefaultValue("docs/RESULTS.md")]
        public string Out { get; init; } = "docs/RESULTS.md";

        [CommandOption("--data <SPEC>")]
        [Description("The real dataset for density, coverage and the scatter figures: " + Evlf.OnnxHybrid.Data.DataSpec.ValidForms + " (default: the runs' own when they agree, else fashion-mnist).")]
        public string? Data { get; init; }

        [CommandOption("--pending <LABEL:IPC:REASON>")]
        [Description("Lists a cell without a run, with a reason, e.g. \"d4m+EVLF:50:not run yet\"; repeatable. The seven standard methods are listed as pending at every IPC present anyway.")]
        public string[] Pending { get; init; } = [];

        [CommandOption("--knn <K>")]
        [Description("k of the k-nearest-neighbour radii of density and coverage.")]
        [DefaultValue(DensityCoverage.DefaultK)]
        public int K { get; init; } = DensityCoverage.DefaultK;

        [CommandOption("--real-per-class <N>")]
        [Description("Real training images per class in the metrics' reference set (seeded sample).")]
        [DefaultValue(1000)]
        public int RealPerClass { get; init; } = 1000;

        [CommandOption("--seed <SEED>")]
        [Description("Seeds the reference sample, the PCA and the scatter's real points.")]
        [DefaultValue(0)]
        public int Seed { get; init; }

        [CommandOption("--no-metrics")]
        [Description("Only the tables: no density, coverage or figures, and the real dataset is not read.")]
        public bool NoMetrics { get; init; }

        [CommandOption("--agreement")]
        [Description("Adds class agreement to the runs table: the share of each run's images that a ConvNet-3 trained on the real training split (soft-label evaluation's rded teacher, seeded by --seed) assigns to their class. Reads the teacher from --teacher-cache, or trains it there first (about 12 minutes for Fashion-MNIST on 2 cores).")]
        public bool Agreement { get; init; }

        [CommandOption("--teacher-cache <DIR>")]
        [Description("Where --agreement's teacher is cached (the same cache as evlf eval --soft-labels; default: $EVLF_CACHE/teachers or ~/.cache/evlf/teachers).")]
        public string? TeacherCache { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Intra-op threads for TorchSharp; 0 = one per core.")]
        [DefaultValue(0)]
        public int Threads { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress lines on stderr.")]
        public bool Quiet { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Runs.Length == 0) throw new UserInputException("No run folder was given; expected evlf report RUN_DIR... --out docs/RESULTS.md.");
        if (settings.K < 1) throw new UserInputException($"--knn must be 1 or more; got {settings.K}.");
        if (settings.RealPerClass < 1) throw new UserInputException($"--real-per-class must be 1 or more; got {settings.RealPerClass}.");
        TorchThreads.Check(settings.Threads);
        if (string.IsNullOrWhiteSpace(settings.Out)) throw new UserInputException("--out must name a markdown file, e.g. docs/RESULTS.md.");
        if (settings.Agreement && settings.NoMetrics) throw new UserInputException("--agreement needs the real dataset, which --no-metrics leaves unread; expected one of them, found both.");
        if (settings.TeacherCache is not null && !settings.Agreement) throw new UserInputException("--teacher-cache applies to --agreement only; expected it with --agreement, found it without.");
        if (!settings.NoMetrics) TorchThreads.Set(settings.Threads);

        var options = new ReportOptions
        {
            Runs = settings.Runs,
            Out = settings.Out,
            Data = settings.Data,
            Pending = settings.Pending,
            Metrics = !settings.NoMetrics,
            Fidelity = new FidelityOptions { K = settings.K, RealPerClass = settings.RealPerClass, Seed = settings.Seed },
            Agreement = settings.Agreement
                ? SoftLabelOptions.Rded.Teacher with { CacheDirectory = settings.TeacherCache ?? SoftLabelOptions.Rded.Teacher.CacheDirectory }
                : null,
        };
        var doc = ResultsReport.Write(options, ConsoleProgress.Log(settings.Quiet, prefix: "report: "), cancellationToken);

        int evaluated = doc.Entries.Count(e => e.Run.Accuracy is not null);
        Console.WriteLine($"{settings.Out}: {doc.Entries.Count} run(s), {evaluated} evaluated, {doc.Pending.Count} pending cell(s), {doc.Entries.Count(e => e.SheetPath is not null)} with figures");
        return 0;
    }
}
