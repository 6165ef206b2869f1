using System.Diagnostics;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// Soft-label evaluation, as D4M, SRe2L and RDED report their headline results: a student trained on the synthetic
/// set only, against a <see cref="Teacher"/> trained on the full real training split. Per batch, in RDED's order
/// (validation/main.py): every image gets a RandomResizedCrop (area U(<see cref="SoftLabelOptions.CropScaleMin"/>, 1),
/// aspect in [3/4, 4/3]) and a flip with probability ½; the batch is CutMixed (λ ~ Beta(1, 1), a random partner, IDC's box);
/// the teacher labels that same mixed batch without gradients; the loss is <see cref="SoftLabelLoss.KlDivergence"/> at
/// temperature T (hard labels are not used). AdamW with a per-epoch schedule (<see cref="SoftLabelSchedule"/>).
/// Reports the test accuracy after the last epoch, as the other protocols (the anchors report the best epoch).
/// </summary>
public sealed class SoftLabelProtocol : IEvaluationProtocol
{
    private readonly IdcAugmentation crop;

    /// <param name="teacher">The teacher (not disposed by the protocol).</param>
    /// <param name="options">Student settings; <see cref="SoftLabelOptions.Teacher"/> should be what <paramref name="teacher"/> was trained with.</param>
    public SoftLabelProtocol(Teacher teacher, SoftLabelOptions? options = null)
    {
        Teacher = teacher ?? throw new ArgumentNullException(nameof(teacher));
        Options = options ?? SoftLabelOptions.Rded;
        Options.Validate();
        crop = new IdcAugmentation(new IdcAugmentationParameters(CropScaleMin: Options.CropScaleMin, CropScaleMax: 1));
    }

    public SoftLabelOptions Options { get; }

    public Teacher Teacher { get; }

    public string Name => "soft";

    public int Epochs => Options.Epochs;

    public string Summary => FormattableString.Invariant(
        $"soft labels ({Options.Name}): teacher {Teacher.Options.Summary}, seed-derived, {Teacher.TestAccuracy * 100:F2}% test accuracy (key {Teacher.Key}); KL(teacher || student) x T^2 at T {Options.Temperature}, AdamW lr {Options.LearningRate} betas 0.9/0.999 weight decay {Options.WeightDecay}, batch {(Options.BatchSize is int b ? b.ToString(System.Globalization.CultureInfo.InvariantCulture) : "by RDED's IPC rule")}, {(Options.Schedule == SoftLabelSchedule.Cosine ? "cosine to 0" : "RDED cosine (to lr/2)")} per epoch, RandomResizedCrop(scale {Options.CropScaleMin}-1), flip, CutMix on every batch, teacher labels the augmented batch");

    /// <summary>Learning rate of epoch e (0-based) under <see cref="SoftLabelOptions.Schedule"/>.</summary>
    public double LearningRateAt(int epoch) => Options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * epoch /
        (Options.Schedule == SoftLabelSchedule.Cosine ? Options.Epochs : 2.0 * Options.Epochs)));

    /// <summary>
    /// RDED's batch rule (argument.py): 10 at IPC 1, 50 at IPC 10, 100 at IPC 50, twice that for 100 or more classes, never
    /// more than the set. RDED defines no other IPC; here IPC 2–10 take 50 and more take 100.
    /// </summary>
    public static int BatchSizeFor(int ipc, int classes, int images)
    {
        int batch = ipc <= 1 ? 10 : ipc <= 10 ? 50 : 100;
        if (classes >= 100) batch *= 2;
        return Math.Max(1, Math.Min(batch, images));
    }

    public ProtocolResult Run(ClassifierArchitecture architecture, LabelledImages train, LabelledImages test, int classes, long seed,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        if (train.Channels != Teacher.Channels || train.Height != Teacher.Height || train.Width != Teacher.Width || classes != Teacher.Classes)
            throw new UserInputException(FormattableString.Invariant(
                $"The teacher was trained on {Teacher.Channels}x{Teacher.Height}x{Teacher.Width} images of {Teacher.Classes} classes but the set is evaluated at {train.Channels}x{train.Height}x{train.Width} with {classes}; expected the teacher of the same data and resolution."));
        using var model = architecture.Create(train.Channels, train.Height, train.Width, classes, seed);
        if (device is not null) model.to(device);  // initialised on the CPU: the same weights wherever it trains
        using var generator = new Generator(Seeds.EvaluationData(seed), CPU);
        int ipc = train.CountPerClass(classes).Max();
        double temperature = Options.Temperature;
        var loop = new MiniBatchSgd
        {
            Epochs = Options.Epochs,
            BatchSize = Options.BatchSize ?? BatchSizeFor(ipc, classes, train.Count),
            LearningRateAt = LearningRateAt,
            Optimizer = (parameters, lr) => optim.AdamW(parameters, lr, beta1: 0.9, beta2: 0.999, weight_decay: Options.WeightDecay),
            Loss = (net, x, y, g) =>
            {
                var cropped = crop.RandomResizedCrop(x, g);
                using var u = rand([x.shape[0]], generator: g);
                var flipped = DsaAugmentation.Flip(cropped, u.to(x.device), 0.5);
                var (mixed, _, _) = IdcProtocol.CutMix(flipped, y, g);
                var target = Teacher.Logits(mixed);
                return SoftLabelLoss.KlDivergence(net.call(mixed), target, temperature);
            },
        };
        var (loss, trainSeconds, images) = loop.Train(model, train, generator, progress, cancellationToken);
        var watch = Stopwatch.StartNew();
        double accuracy = ClassifierAccuracy.Measure(model, test, Options.TestBatchSize, cancellationToken);
        return new ProtocolResult(accuracy, loss, trainSeconds, watch.Elapsed.TotalSeconds, images);
    }
}
