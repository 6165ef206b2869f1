using System.ComponentModel;
using System.Globalization;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>`evlf eval --synthetic RUN_DIR [--data SPEC] [--model NAME] [--protocol dsa|idc] [--epochs N] [--repeats N] [--seed S] [--resolution PIXELS] [--threads N] [--fresh] [--quiet]`</summary>
internal sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--synthetic <RUN_DIR>")]
        [Description("Run folder holding images/<class>/<n>.png and manifest.json (as evlf distill writes it).")]
        public string? Synthetic { get; init; }

        [CommandOption("--data <SPEC>")]
        [Description("The real dataset whose test split is used: " + DataSpec.ValidForms + ".")]
        [DefaultValue("fashion-mnist")]
        public string Data { get; init; } = "fashion-mnist";

        [CommandOption("--model <NAME>")]
        [Description("Classifier: " + ClassifierArchitecture.ValidNames + ".")]
        [DefaultValue("convnet3")]
        public string Model { get; init; } = "convnet3";

        [CommandOption("--protocol <NAME>")]
        [Description("Training protocol: dsa (DC/DSA: SGD 0.01, batch 256, DSA augmentation, lr x0.1 at half, 1000 epochs) or idc (IDC: batch 64, random-resized-crop, flip, colour jitter, lighting, CutMix, MultiStepLR; epochs from the IPC).")]
        [DefaultValue("dsa")]
        public string Protocol { get; init; } = "dsa";

        [CommandOption("--epochs <N>")]
        [Description("Training epochs per classifier (default: 1000 for dsa; IDC's table by images per class for idc).")]
        public int? Epochs { get; init; }

        [CommandOption("--dsa-strategy <OPS>")]
        [Description("dsa protocol only: the DSA operation groups, joined by '_', one drawn per batch; 'none' trains without augmentation (DC's protocol for its baselines).")]
        [DefaultValue(DsaParameters.DefaultStrategy)]
        public string DsaStrategy { get; init; } = DsaParameters.DefaultStrategy;

        [CommandOption("--resolution <PIXELS>")]
        [Description("Resize the shorter side of every image to PIXELS and centre-crop a square (for datasets of varying image size, e.g. 224 for ImageNet subsets).")]
        public int? Resolution { get; init; }

        [CommandOption("--repeats <N>")]
        [Description("Classifiers to train; repeat r uses seed SEED + r.")]
        [DefaultValue(5)]
        public int Repeats { get; init; } = 5;

        [CommandOption("--seed <SEED>")]
        [DefaultValue(0L)]
        public long Seed { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Intra-op threads for TorchSharp; 0 = one per core.")]
        [DefaultValue(0)]
        public int Threads { get; init; }

        [CommandOption("--fresh")]
        [Description("Train every repeat anew. By default the repeats that an earlier evaluation of the same images with the same settings finished (eval.json, or the partial file a stopped run leaves) are kept and only the missing ones are trained.")]
        public bool Fresh { get; init; }

        [CommandOption("--force")]
        [Description("Write eval.json into a --synthetic folder that evlf did not write (its files are left alone).")]
        public bool Force { get; init; }

        [CommandOption("--quiet")]
        [Description("No progress bars; print only the result.")]
        public bool Quiet { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Synthetic))
            throw new UserInputException("--synthetic RUN_DIR is required; expected the folder of a synthetic set (images/<class>/<n>.png and manifest.json).");
        if (settings.Epochs is < 1) throw new UserInputException($"--epochs must be 1 or more; got {settings.Epochs}.");
        if (settings.Resolution is < 1 or > MaxResolution)
            throw new UserInputException($"--resolution must be between 1 and {MaxResolution} pixels; got {settings.Resolution}.");
        if (settings.Repeats < 1) throw new UserInputException($"--repeats must be 1 or more; got {settings.Repeats}.");
        TorchThreads.Check(settings.Threads);
        var model = ClassifierArchitecture.Parse(settings.Model);
        var protocolName = settings.Protocol.Trim().ToLowerInvariant();
        if (protocolName is not ("dsa" or "idc")) throw new UserInputException($"Protocol '{settings.Protocol}' is not known; expected dsa or idc.");
        _ = new DsaParameters(settings.DsaStrategy).Ops(); // an unknown operation is a user error before any work
        var runDir = settings.Synthetic;
        if (!Directory.Exists(runDir))
            throw new UserInputException($"Run folder '{runDir}' does not exist; expected a folder with images/<class>/<n>.png and manifest.json.");
        if (!SyntheticSetReader.IsSyntheticSet(runDir))
            throw new UserInputException($"Run folder '{runDir}' has no manifest.json and images/ folder; expected a synthetic set as evlf writes it.");

        // eval.json (and the partial file a stopped evaluation leaves) go beside the set: evlf's own folder, or --force.
        using var output = OutputFolder.Open(runDir, "eval", settings.Force, option: "--synthetic");
        output.Reserve(EvaluationResult.FileName);
        output.Reserve(SyntheticSetEvaluation.PartialFileName);
        var spec = DataSpec.Parse(settings.Data);
        var real = spec.Open(logger: ConsoleProgress.Log(settings.Quiet));
        TorchThreads.Set(settings.Threads);
        var normalization = DatasetNormalization.For(spec, real);
        IEvaluationProtocol protocol = protocolName == "dsa"
            ? new DsaProtocol(new DsaProtocolOptions { Epochs = settings.Epochs ?? 1000, Augmentation = new DsaParameters(settings.DsaStrategy) })
            : new IdcProtocol(normalization, real.Channels, settings.Epochs ?? IdcEpochs(runDir, real.ClassCount));
        var options = new EvaluationOptions
        {
            Model = model,
            Protocol = protocol,
            Repeats = settings.Repeats,
            Seed = settings.Seed,
            Normalization = normalization,
            Resolution = settings.Resolution,
            Resume = !settings.Fresh,
        };

        EvaluationResult result;
        if (settings.Quiet)
            result = SyntheticSetEvaluation.RunAndWrite(runDir, real, spec.ToString(), options, null, cancellationToken);
        else
            result = AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var tasks = Enumerable.Range(0, settings.Repeats)
                        .Select(r => ctx.AddTask(Describe(r, settings, null), autoStart: false, maxValue: protocol.Epochs))
                        .ToArray();
                    var progress = new Relay(p =>
                    {
                        var task = tasks[p.Repeat];
                        if (p.Training is { } t)
                        {
                            if (!task.IsStarted) task.StartTask();
                            task.Value = t.Epoch;
                            task.Description = Describe(p.Repeat, settings, FormattableString.Invariant($"loss {t.Loss:F3}"));
                        }
                        else if (p.AccuracyPercent is { } a)
                        {
                            task.Value = task.MaxValue;
                            task.Description = Describe(p.Repeat, settings, FormattableString.Invariant($"accuracy {a:F2}%"));
                            task.StopTask();
                        }
                    });
                    return SyntheticSetEvaluation.RunAndWrite(runDir, real, spec.ToString(), options, progress, cancellationToken);
                });

        if (!settings.Quiet)
            for (int r = 0; r < result.Accuracies.Count; r++)
                Console.WriteLine(FormattableString.Invariant($"repeat {r + 1}/{result.Accuracies.Count} (seed {result.Seeds[r]}): {result.Accuracies[r]:F2}%  train {result.TrainSeconds[r]:F1} s"));
        Console.WriteLine(FormattableString.Invariant($"accuracy: {result.Mean:F2} ± {result.Std:F2}"));
        if (!settings.Quiet)
            Console.WriteLine(FormattableString.Invariant(
                $"{result.Model}, {result.Protocol} protocol, {result.Epochs} epochs, {result.Images} images (ipc {result.Ipc?.ToString(CultureInfo.InvariantCulture) ?? "?"}), {result.ImagesPerSecond:F0} training images/s, {result.Threads} threads, wall {result.WallSeconds:F1} s; wrote {Path.Combine(runDir, EvaluationResult.FileName)}"));
        return 0;
    }

    /// <summary>The largest --resolution: 8× the 256 of ImageNet protocols; a larger one only exhausts memory.</summary>
    const int MaxResolution = 2048;

    /// <summary>IDC's epochs for the set's images per class (the largest class count).</summary>
    static int IdcEpochs(string runDir, int classes)
    {
        var set = SyntheticSetReader.Open(runDir);
        var counts = set.Train.CountPerClass(set.ClassCount);
        return IdcProtocol.EpochsFor(Math.Max(1, counts.Max()), classes);
    }

    static string Describe(int repeat, Settings s, string? status) =>
        Markup.Escape($"repeat {repeat + 1}/{s.Repeats} (seed {s.Seed + repeat})" + (status is null ? "" : $"  {status}"));

    /// <summary>Reports on the training thread, which is the thread Spectre's progress callback runs on.</summary>
    private sealed class Relay(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
