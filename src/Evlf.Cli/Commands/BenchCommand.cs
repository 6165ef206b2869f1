using System.ComponentModel;
using System.Diagnostics;
using Evlf.Bench;
using Evlf.OnnxHybrid.Data;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>
/// `evlf bench [--quick] [--out DIR]`: times each stage on this machine and prints ratios against baselines measured in
/// the same run, then the same stages in PyTorch eager when an interpreter with torch is at hand; writes DIR/bench.json.
/// The benchmarks live in Evlf.Bench (<see cref="BenchRunner"/>); this maps the flags onto <see cref="BenchOptions"/>.
/// </summary>
internal sealed class BenchCommand : Command<BenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")]
        [Description("Fewer repetitions and a shorter end-to-end distill (a few minutes in all).")]
        public bool Quick { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("The folder bench.json is written to.")]
        [DefaultValue(".")]
        public string Out { get; init; } = ".";

        [CommandOption("--bundle <DIR>")]
        [Description("The model bundle whose graphs are timed.")]
        [DefaultValue("models/fmnist-ldm")]
        public string Bundle { get; init; } = "models/fmnist-ldm";

        [CommandOption("--data <SPEC>")]
        [Description("The dataset the end-to-end distill uses: " + DataSpec.ValidForms + ".")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--skip-distill")]
        [Description("Leave out the end-to-end distill (and its PyTorch-eager counterpart).")]
        public bool SkipDistill { get; init; }

        [CommandOption("--python <PATH>")]
        [Description("Interpreter with torch for tools/bench/bench_reference.py and pipeline_reference.py (default /usr/bin/python3, when it exists).")]
        public string? Python { get; init; }

        [CommandOption("--no-python")]
        [Description("Leave out the PyTorch-eager reference timings (stages and end-to-end distill) and their ratios.")]
        public bool NoPython { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var options = new BenchOptions
        {
            Quick = s.Quick, Out = s.Out, Bundle = s.Bundle, Data = s.Data, SkipDistill = s.SkipDistill, Python = s.Python, NoPython = s.NoPython,
        };
        BenchRunner.Run(options, new SpectreBenchOutput(), StartThisEvlf, cancellationToken);
        return 0;
    }

    /// <summary>A fresh start of this evlf, through the dotnet host when that is how this one runs.</summary>
    static ProcessStartInfo StartThisEvlf()
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        return start;
    }
}
