using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Evaluation.Reports;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Pretraining;
using Evlf.OnnxHybrid.Sharding;
using Evlf.OnnxHybrid.Training;

namespace Evlf.Cli;

/// <summary>
/// The command-line flag of each library option that an error can name (<see cref="OnnxHybrid.UserInputException.Option"/>):
/// the library says "DistillOptions.Ipc must be at least 1", the user reads "--ipc must be at least 1"; a message that
/// names several (<see cref="OnnxHybrid.UserInputException.Options"/>, "DistillOptions.Out '…' lies inside DistillOptions.Data
/// '…'") reads "--out '…' lies inside --data '…'".
/// </summary>
static class OptionFlags
{
    static readonly Dictionary<string, string> Flags = new()
    {
        [DistillOptions.OptionName(nameof(DistillOptions.Data))] = "--data",
        [DistillOptions.OptionName(nameof(DistillOptions.Bundle))] = "--bundle",
        [DistillOptions.OptionName(nameof(DistillOptions.Out))] = "--out",
        [DistillOptions.OptionName(nameof(DistillOptions.Cache))] = "--cache",
        [DistillOptions.OptionName(nameof(DistillOptions.Force))] = "--force",
        [DistillOptions.OptionName(nameof(DistillOptions.Device))] = "--device",
        [OnnxSession.DeviceOption] = "--device",
        [TorchThreads.ThreadsOption] = "--threads",
        [DatasetInspector.SkipBadOption] = "--skip-bad",
        [RandomInputs.BatchOption] = "--batch",
        [RandomInputs.DimsOption] = "--dim",
        [$"{nameof(EvaluationOptions)}.{nameof(EvaluationOptions.Resolution)}"] = "--resolution",
        [$"{nameof(ReportOptions)}.{nameof(ReportOptions.Out)}"] = "--out",
        [DistillOptions.OptionName(nameof(DistillOptions.Ipc))] = "--ipc",
        [DistillOptions.OptionName(nameof(DistillOptions.Device))] = "--device",
        [$"{nameof(EvaluationOptions)}.{nameof(EvaluationOptions.Device)}"] = "--device",
        [PretrainOptions.OptionName(nameof(PretrainOptions.Device))] = "--device",
        [PretrainOptions.OptionName(nameof(PretrainOptions.From))] = "--from",
        [DistillOptions.OptionName(nameof(DistillOptions.Steps))] = "--steps",
        [DistillOptions.OptionName(nameof(DistillOptions.Cfg))] = "--cfg",
        [DistillOptions.OptionName(nameof(DistillOptions.ModeGuidanceLambda))] = "--mode-lambda",
        [DistillOptions.OptionName(nameof(DistillOptions.ModeGuidanceStopT))] = "--mode-stop-t",
        [DistillOptions.OptionName(nameof(DistillOptions.Strength))] = "--strength",
        [DistillOptions.OptionName(nameof(DistillOptions.Candidates))] = "--candidates",
        [DistillOptions.OptionName(nameof(DistillOptions.GuidanceInterval))] = "--guidance-interval",
        [DistillOptions.OptionName(nameof(DistillOptions.FinetuneSteps))] = "--finetune-steps",
        [DistillOptions.OptionName(nameof(DistillOptions.MaxTrain))] = "--max-train",
        [DistillOptions.OptionName(nameof(DistillOptions.Finetune))] = "--finetune",
        [DistillOptions.OptionName(nameof(DistillOptions.ThroughVae))] = "--through-vae",
        [DistillOptions.OptionName(nameof(DistillOptions.Modes))] = "--modes",
        [DistillOptions.OptionName(nameof(DistillOptions.Start))] = "--start",
        [DistillOptions.OptionName(nameof(DistillOptions.RealDetail))] = "--real-detail",
        [DistillOptions.OptionName(nameof(DistillOptions.OwnView))] = "--own-view",
        [DistillOptions.OptionName(nameof(DistillOptions.OnePerMode))] = "--one-per-mode",
        [FusionTrainingOptions.OptionName(nameof(FusionTrainingOptions.Epochs))] = "--fusion-epochs",
        [FusionTrainingOptions.OptionName(nameof(FusionTrainingOptions.MaxSamples))] = "--fusion-samples",
        [FusionTrainingOptions.OptionName(nameof(FusionTrainingOptions.Lambda1))] = "--fusion-lambda1",
        [FusionTrainingOptions.OptionName(nameof(FusionTrainingOptions.Lambda2End))] = "--fusion-lambda2",
        [FusionTrainingOptions.OptionName(nameof(FusionTrainingOptions.Lambda2Start))] = "--fusion-lambda2",
        [$"{nameof(MinimaxOptions)}.{nameof(MinimaxOptions.Steps)}"] = "--minimax-steps",
        [$"{nameof(MinimaxOptions)}.{nameof(MinimaxOptions.MemorySize)}"] = "--minimax-memory",
        [SoftLabelOptions.OptionName(nameof(SoftLabelOptions.Name))] = "--soft-labels",
        [SoftLabelOptions.OptionName(nameof(SoftLabelOptions.Temperature))] = "--temperature",
        [SoftLabelOptions.OptionName(nameof(SoftLabelOptions.Epochs))] = "--epochs",
        [SoftLabelOptions.OptionName(nameof(SoftLabelOptions.BatchSize))] = "--batch",
        [SoftLabelOptions.OptionName(nameof(SoftLabelOptions.LearningRate))] = "--lr",
        [SoftLabelOptions.OptionName(nameof(SoftLabelOptions.WeightDecay))] = "--weight-decay",
        [TeacherOptions.OptionName(nameof(TeacherOptions.Epochs))] = "--teacher-epochs",
        [TeacherOptions.OptionName(nameof(TeacherOptions.CacheDirectory))] = "--teacher-cache",
        [ShardSpec.OptionName(nameof(ShardSpec.Count))] = "--shards",
        [ShardSpec.OptionName(nameof(ShardSpec.Index))] = "--shard-index",
        [$"{nameof(SampleOptions)}.{nameof(SampleOptions.Steps)}"] = "--steps",
        [$"{nameof(SampleOptions)}.{nameof(SampleOptions.Cfg)}"] = "--cfg",
    };

    /// <summary>The flag of <paramref name="option"/>, or null when the command line has none (the message then names the option as the library does).</summary>
    public static string? Of(string option) => Flags.GetValueOrDefault(option);
}
