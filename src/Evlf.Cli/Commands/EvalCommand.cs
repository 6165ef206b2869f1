using System.ComponentModel;
using System.Globalization;
using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Output;
using Evlf.OnnxHybrid.Sharding;
using Evlf.OnnxHybrid.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Evlf.Cli.Commands;

/// <summary>
/// `evlf eval --synthetic RUN_DIR [--data SPEC] [--model NAME] [--protocol dsa|idc] [--epochs N] [--repeats N] [--seed S] [--resolution PIXELS] [--threads N] [--fresh] [--quiet]`,
/// or with soft labels `--soft-labels rded|d4m [--teacher MODEL|student] [--teacher-epochs N] [--teacher-cache DIR] [--temperature T] [--lr RATE] [--weight-decay WD] [--batch N]`.
/// </summary>
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
        [Description("Hard-label training protocol: dsa (the default; DC/DSA: SGD 0.01, batch 256, DSA augmentation, lr x0.1 at half, 1000 epochs) or idc (IDC: batch 64, random-resized-crop, flip, colour jitter, lighting, CutMix, MultiStepLR; epochs from the IPC). Not with --soft-labels.")]
        public string? Protocol { get; init; }

        [CommandOption("--soft-labels <PRESET>")]
        [Description("Train against a teacher's soft labels instead of hard labels (protocol 'soft'): rded (ConvNet-3 teacher, T 20, AdamW lr 0.001 weight decay 0.01, RDED's cosine, batch by IPC, 300 epochs, crop+flip+CutMix) or d4m (ResNet-18 teacher, T 20, AdamW 0.001, cosine to 0, 300 epochs). The teacher is trained on the real training split first and cached (ConvNet-3 on Fashion-MNIST, 2 epochs: 12 min on 2 busy cores, 87.86% test accuracy).")]
        public string? SoftLabels { get; init; }

        [CommandOption("--teacher <MODEL>")]
        [Description("With --soft-labels: the teacher network, 'student' (the --model network) or a classifier name (default: the preset's, convnet3 for rded, resnet18 for d4m).")]
        public string? Teacher { get; init; }

        [CommandOption("--teacher-epochs <N>")]
        [Description("With --soft-labels: the teacher's epochs over the real training split (default 2).")]
        public int? TeacherEpochs { get; init; }

        [CommandOption("--teacher-cache <DIR>")]
        [Description("With --soft-labels: folder of cached teachers (default $EVLF_CACHE/teachers, else $XDG_CACHE_HOME/evlf/teachers, else ~/.cache/evlf/teachers).")]
        public string? TeacherCache { get; init; }

        [CommandOption("--temperature <T>")]
        [Description("With --soft-labels: the softmax temperature of teacher and student (default 20, RDED's with CutMix).")]
        public double? Temperature { get; init; }

        [CommandOption("--lr <RATE>")]
        [Description("With --soft-labels: the student's AdamW learning rate (default 0.001).")]
        public double? LearningRate { get; init; }

        [CommandOption("--weight-decay <WD>")]
        [Description("With --soft-labels: the student's AdamW weight decay (default 0.01).")]
        public double? WeightDecay { get; init; }

        [CommandOption("--batch <N>")]
        [Description("With --soft-labels: the student's batch size (default RDED's rule: 10 at IPC 1, 50 up to IPC 10, 100 above; twice that for 100+ classes).")]
        public int? Batch { get; init; }

        [CommandOption("--epochs <N>")]
        [Description("Training epochs per classifier (default: 1000 for dsa; IDC's table by images per class for idc; 300 with --soft-labels).")]
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
        [Description("Seed of the first classifier; repeat r uses seed SEED + r.")]
        [DefaultValue(0L)]
        public long Seed { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("Where the classifiers (and a soft-label teacher) train: auto (CUDA when TorchSharp's libtorch has it, else the CPU) | cpu | cuda.")]
        [DefaultValue("auto")]
        public string Device { get; init; } = "auto";

        [CommandOption("--threads <N>")]
        [Description("Intra-op threads for TorchSharp; 0 = one per core.")]
        [DefaultValue(0)]
        public int Threads { get; init; }

        [CommandOption("--fresh")]
        [Description("Train every repeat anew. By default the repeats that an earlier evaluation of the same images with the same settings finished (eval.json, or the partial file a stopped run leaves) are kept and only the missing ones are trained.")]
        public bool Fresh { get; init; }

        [CommandOption("--shards <N>")]
        [Description("Split the repeats over N processes: with --shard-index, train that shard's contiguous range of repeats into a part file beside eval.json; without, merge the finished parts into eval.json.")]
        public int? Shards { get; init; }

        [CommandOption("--shard-index <I>")]
        [Description("This process's shard, 0 to N−1, or auto: the first of EVLF_SHARD_INDEX, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX that is set.")]
        public string? ShardIndex { get; init; }

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
        if (ShardFlags.MissingCount(settings.Shards, settings.ShardIndex) is string shardError) throw new UserInputException(shardError);
        var shards = settings.Shards is int count ? new ShardSpec(count, settings.ShardIndex is null ? null : ShardSpec.ResolveIndex(settings.ShardIndex)) : null;
        shards?.Validate();
        TorchThreads.Check(settings.Threads);
        var executionDevice = DeviceFlag.Read(settings.Device);
        ComputeDevice.RequireAvailable(executionDevice, EvaluationDeviceOption);
        var model = ClassifierArchitecture.Parse(settings.Model);
        var protocolName = (settings.Protocol ?? "dsa").Trim().ToLowerInvariant();
        if (protocolName is not ("dsa" or "idc")) throw new UserInputException($"Protocol '{settings.Protocol}' is not known; expected dsa or idc.");
        var soft = SoftLabelSettings(settings, model);
        _ = new DsaParameters(settings.DsaStrategy).Ops(); // an unknown operation is a user error before any work
        var runDir = settings.Synthetic;
        if (!Directory.Exists(runDir))
            throw new UserInputException($"Run folder '{runDir}' does not exist; expected a folder with images/<class>/<n>.png and manifest.json.");
        if (!SyntheticSetReader.IsSyntheticSet(runDir))
            throw new UserInputException($"Run folder '{runDir}' has no manifest.json and images/ folder; expected a synthetic set as evlf writes it.");

        // eval.json (and the partial file a stopped evaluation leaves) go beside the set: evlf's own folder, or --force.
        // Shards share the folder (each writes only its own part file); every other evaluation locks it.
        using var output = OutputFolder.Open(runDir, "eval", settings.Force, exclusive: shards?.IsShard != true, option: "--synthetic", forceOption: "--force");
        if (shards?.Index is int shard) output.Reserve(Path.GetFileName(SyntheticSetEvaluation.PartFile(runDir, shard, shards.Count)));
        else
        {
            output.Reserve(EvaluationResult.FileName);
            output.Reserve(SyntheticSetEvaluation.PartialFileName);
        }
        var spec = DataSpec.Parse(settings.Data);
        var real = spec.Open(logger: ConsoleProgress.Log(settings.Quiet));
        TorchThreads.Set(settings.Threads);
        var normalization = DatasetNormalization.For(spec, real);
        using var teacher = soft is null ? null : LoadTeacher(real, spec.ToString(), normalization, soft.Teacher, settings,
            ComputeDevice.Resolve(executionDevice, ConsoleProgress.Log(settings.Quiet), EvaluationDeviceOption), cancellationToken);
        IEvaluationProtocol protocol = teacher is not null
            ? new SoftLabelProtocol(teacher, soft)
            : protocolName == "dsa"
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
            Shards = shards,
            Device = executionDevice,
            Logger = ConsoleProgress.Log(settings.Quiet),
        };

        // One bar per repeat: its epochs, then its accuracy.
        var result = new ConsoleProgress(settings.Quiet).Run(reporter =>
            SyntheticSetEvaluation.RunAndWrite(runDir, real, spec.ToString(), options, reporter, cancellationToken));

        if (result.Waiting is { } wait)
        {
            if (shards!.IsShard)
                for (int r = 0; r < result.Accuracies.Count; r++)
                    Console.WriteLine(FormattableString.Invariant($"seed {result.Seeds[r]}: {result.Accuracies[r]:F2}%  train {result.TrainSeconds[r]:F1} s"));
            Console.WriteLine(wait.Message);
            return shards.IsShard || wait.Finished.Count == 0 ? 0 : LocalShards.WaitingForShards;
        }
        if (!settings.Quiet)
            for (int r = 0; r < result.Accuracies.Count; r++)
                Console.WriteLine(FormattableString.Invariant($"repeat {r + 1}/{result.Accuracies.Count} (seed {result.Seeds[r]}): {result.Accuracies[r]:F2}%  train {result.TrainSeconds[r]:F1} s"));
        Console.WriteLine(FormattableString.Invariant($"accuracy: {result.Mean:F2} ± {result.Std:F2}"));
        if (!settings.Quiet)
            Console.WriteLine(FormattableString.Invariant(
                $"{result.Model}, {result.Protocol} protocol, {result.Epochs} epochs, {result.Images} images (ipc {result.Ipc?.ToString(CultureInfo.InvariantCulture) ?? "?"}), {result.ImagesPerSecond:F0} training images/s, {result.Threads} threads, wall {result.WallSeconds:F1} s; wrote {Path.Combine(runDir, EvaluationResult.FileName)}"));
        if (!settings.Quiet && result.Teacher is not null)
            Console.WriteLine(FormattableString.Invariant(
                $"soft labels ({result.SoftLabelPreset}): teacher {result.Teacher} at {result.TeacherAccuracy:F2}% on the test split (cache {teacher!.CachePath}), T {result.Temperature}"));
        return 0;
    }

    /// <summary>
    /// The soft-label settings the flags ask for (the preset, then each flag over it, validated), or null without
    /// --soft-labels; the soft-label-only flags without it are a usage error.
    /// </summary>
    static SoftLabelOptions? SoftLabelSettings(Settings s, ClassifierArchitecture student)
    {
        if (s.SoftLabels is null)
        {
            var stray = new (string Flag, bool Set)[]
            {
                ("--teacher", s.Teacher is not null), ("--teacher-epochs", s.TeacherEpochs is not null), ("--teacher-cache", s.TeacherCache is not null),
                ("--temperature", s.Temperature is not null), ("--lr", s.LearningRate is not null), ("--weight-decay", s.WeightDecay is not null), ("--batch", s.Batch is not null),
            }.FirstOrDefault(f => f.Set).Flag;
            if (stray is not null)
                throw new UserInputException($"{stray} applies to soft-label evaluation only; expected it with --soft-labels {SoftLabelOptions.PresetNames}, found it without.");
            return null;
        }
        if (s.Protocol is not null)
            throw new UserInputException($"--protocol and --soft-labels exclude each other; expected one of them, found --protocol {s.Protocol} and --soft-labels {s.SoftLabels}.");
        if (s.DsaStrategy != DsaParameters.DefaultStrategy)
            throw new UserInputException($"--dsa-strategy applies to the dsa protocol only; expected no --dsa-strategy with --soft-labels (its augmentation is RDED's crop, flip and CutMix), found --dsa-strategy {s.DsaStrategy}.");
        var preset = SoftLabelOptions.Preset(s.SoftLabels);
        var teacher = preset.Teacher;
        if (s.Teacher is not null)
        {
            ClassifierArchitecture architecture;
            if (s.Teacher.Trim().Equals("student", StringComparison.OrdinalIgnoreCase)) architecture = student;
            else
                try
                {
                    architecture = ClassifierArchitecture.Parse(s.Teacher);
                }
                catch (UserInputException)
                {
                    throw new UserInputException($"--teacher '{s.Teacher}' is not a known classifier; expected student or {ClassifierArchitecture.ValidNames}.");
                }
            teacher = teacher with { Architecture = architecture };
        }
        teacher = teacher with
        {
            Epochs = s.TeacherEpochs ?? teacher.Epochs,
            CacheDirectory = s.TeacherCache ?? teacher.CacheDirectory,
        };
        var options = preset with
        {
            Teacher = teacher,
            Epochs = s.Epochs ?? preset.Epochs,
            Temperature = s.Temperature ?? preset.Temperature,
            LearningRate = s.LearningRate ?? preset.LearningRate,
            WeightDecay = s.WeightDecay ?? preset.WeightDecay,
            BatchSize = s.Batch ?? preset.BatchSize,
        };
        options.Validate();
        return options;
    }

    /// <summary>The option <see cref="ComputeDevice"/> names when cuda cannot be had (shown as --device).</summary>
    internal const string EvaluationDeviceOption = $"{nameof(EvaluationOptions)}.{nameof(EvaluationOptions.Device)}";

    /// <summary>The teacher from the cache or trained now, with a progress bar for its training.</summary>
    static Teacher LoadTeacher(ImageDataset real, string dataName, Normalization normalization, TeacherOptions options, Settings s,
        TorchSharp.torch.Device device, CancellationToken cancellationToken) =>
        new ConsoleProgress(s.Quiet).Run(reporter =>
        {
            var name = $"teacher {options.Architecture.Name}";
            var progress = new InlineProgress<WorkProgress>(p => reporter.Report(p with { Task = name }));
            var teacher = Teacher.LoadOrTrain(real, dataName, normalization, options, s.Seed, s.Resolution, reporter, progress, cancellationToken, device);
            reporter.Report(name, 1, 1, FormattableString.Invariant($"{teacher.TestAccuracy * 100:F2}% test accuracy{(teacher.FromCache ? " (cached)" : "")}"));
            return teacher;
        });

    /// <summary>The largest --resolution: 8× the 256 of ImageNet protocols; a larger one only exhausts memory.</summary>
    const int MaxResolution = 2048;

    /// <summary>IDC's epochs for the set's images per class (the largest class count).</summary>
    static int IdcEpochs(string runDir, int classes)
    {
        var set = SyntheticSetReader.Open(runDir);
        var counts = set.Train.CountPerClass(set.ClassCount);
        return IdcProtocol.EpochsFor(Math.Max(1, counts.Max()), classes);
    }
}
