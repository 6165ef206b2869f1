using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Tests.Data;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class SoftLabelProtocolTests
{
    static readonly Normalization Norm = Normalization.MeanStd([0.3f], [0.3f]);

    static EvaluationOptions Options(IEvaluationProtocol protocol, int repeats = 2) => new()
    {
        Model = ClassifierArchitecture.Parse("convnet1"),
        Protocol = protocol,
        Repeats = repeats,
        Seed = 10,
        Normalization = Norm,
    };

    [Fact]
    public void PresetsCarryThePublishedConstants()
    {
        var rded = SoftLabelOptions.Preset("RDED");
        Assert.Equal((20.0, 300, 1e-3, 0.01, 0.5, SoftLabelSchedule.RdedCosine), (rded.Temperature, rded.Epochs, rded.LearningRate, rded.WeightDecay, rded.CropScaleMin, rded.Schedule));
        Assert.Equal("convnet3", rded.Teacher.Architecture.Name);
        Assert.Null(rded.BatchSize);
        var d4m = SoftLabelOptions.Preset("d4m");
        Assert.Equal((20.0, 300, 1e-3, SoftLabelSchedule.Cosine), (d4m.Temperature, d4m.Epochs, d4m.LearningRate, d4m.Schedule));
        Assert.Equal("resnet18", d4m.Teacher.Architecture.Name);
        var e = Assert.Throws<UserInputException>(() => SoftLabelOptions.Preset("sre3l"));
        Assert.Equal("SoftLabelOptions.Name", e.Option);
        Assert.Contains("rded or d4m", e.Message);
        Assert.Contains("'sre3l'", e.Message);
    }

    [Fact]
    public void OptionsAreValidatedByName()
    {
        foreach (var (bad, option) in new (SoftLabelOptions, string)[]
                 {
                     (SoftLabelOptions.Rded with { Temperature = 0 }, "SoftLabelOptions.Temperature"),
                     (SoftLabelOptions.Rded with { Temperature = double.PositiveInfinity }, "SoftLabelOptions.Temperature"),
                     (SoftLabelOptions.Rded with { Epochs = 0 }, "SoftLabelOptions.Epochs"),
                     (SoftLabelOptions.Rded with { BatchSize = 0 }, "SoftLabelOptions.BatchSize"),
                     (SoftLabelOptions.Rded with { LearningRate = 0 }, "SoftLabelOptions.LearningRate"),
                     (SoftLabelOptions.Rded with { WeightDecay = -0.1 }, "SoftLabelOptions.WeightDecay"),
                     (SoftLabelOptions.Rded with { CropScaleMin = 0 }, "SoftLabelOptions.CropScaleMin"),
                     (SoftLabelOptions.Rded with { Teacher = new TeacherOptions { Epochs = 0 } }, "TeacherOptions.Epochs"),
                 })
        {
            var e = Assert.Throws<UserInputException>(bad.Validate);
            Assert.Equal(option, e.Option);
            Assert.Contains("got", e.Message);
        }
    }

    [Fact]
    public void SchedulesAndBatchRuleFollowRdedAndSre2l()
    {
        using var dir = new TempDir();
        using var teacher = Teacher.LoadOrTrain(TinyData.Bars(4), "bars", Norm, TeacherTests.Tiny(dir.Path), 0);
        var rded = new SoftLabelProtocol(teacher, SoftLabelOptions.Rded with { Epochs = 100 });
        Assert.Equal(1e-3, rded.LearningRateAt(0), 15);
        Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI / 4)), rded.LearningRateAt(50), 15); // a quarter wave: lr/2 at E
        Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI * 99 / 200)), rded.LearningRateAt(99), 15);
        var cosine = new SoftLabelProtocol(teacher, SoftLabelOptions.Rded with { Epochs = 100, Schedule = SoftLabelSchedule.Cosine });
        Assert.Equal(0.5e-3, cosine.LearningRateAt(50), 15);
        Assert.Equal("soft", rded.Name);
        Assert.Contains("T 20", rded.Summary);
        Assert.Contains(teacher.Key, rded.Summary);

        Assert.Equal(10, SoftLabelProtocol.BatchSizeFor(1, 10, 10));
        Assert.Equal(50, SoftLabelProtocol.BatchSizeFor(10, 10, 100));
        Assert.Equal(100, SoftLabelProtocol.BatchSizeFor(50, 10, 500));
        Assert.Equal(100, SoftLabelProtocol.BatchSizeFor(10, 100, 1000));
        Assert.Equal(20, SoftLabelProtocol.BatchSizeFor(1, 100, 100));
        Assert.Equal(6, SoftLabelProtocol.BatchSizeFor(2, 3, 6)); // never more than the set
    }

    [Fact]
    public void TinySoftLabelEvaluationWritesTheTeacherToEvalJsonIsDeterministicAndResumesOnlyWithTheSameTeacher()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(10);
        var run = dir.Combine("run");
        TinyData.WriteSet(data, run, 2, new JsonObject { ["method"] = "random", ["ipc"] = 2 });
        using var teacher = Teacher.LoadOrTrain(data, "bars", Norm, TeacherTests.Tiny(dir.Combine("cache")), 10);
        var soft = SoftLabelOptions.Rded with { Epochs = 2, Teacher = TeacherTests.Tiny(dir.Combine("cache")) };
        var options = Options(new SoftLabelProtocol(teacher, soft));

        var result = SyntheticSetEvaluation.RunAndWrite(run, data, "bars", options);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!;
        Assert.Equal("soft", (string?)json["protocol"]);
        Assert.Equal("rded", (string?)json["softLabelPreset"]);
        Assert.Equal("convnet1", (string?)json["teacher"]);
        Assert.Equal(Math.Round(teacher.TestAccuracy * 100, 4), (double)json["teacherAccuracy"]!);
        Assert.Equal(teacher.Key, (string?)json["teacherKey"]);
        Assert.Equal(20.0, (double)json["temperature"]!);
        Assert.Equal(2, (int)json["epochs"]!);
        Assert.Contains("AdamW", (string?)json["protocolSettings"]);
        Assert.All(result.Accuracies, a => Assert.InRange(a, 0, 100));

        // The same seed gives the same accuracies, to the bit.
        var again = SyntheticSetEvaluation.Run(run, data, "bars", options);
        Assert.Equal(result.Accuracies.Select(BitConverter.DoubleToInt64Bits), again.Accuracies.Select(BitConverter.DoubleToInt64Bits));

        // Resuming keeps repeats of the same teacher and settings (here marked 101, 102) and never those of another teacher.
        var marked = json.AsObject();
        marked["accuracies"] = new JsonArray(101.0, 102.0);
        File.WriteAllText(Path.Combine(run, "eval.json"), marked.ToJsonString());
        Assert.Equal(new[] { 101.0, 102.0 }, SyntheticSetEvaluation.Run(run, data, "bars", options with { Resume = true }).Accuracies);
        using var other = Teacher.LoadOrTrain(data, "bars", Norm, TeacherTests.Tiny(dir.Combine("cache")) with { Epochs = 2 }, 10);
        Assert.DoesNotContain(101.0, SyntheticSetEvaluation.Run(run, data, "bars", Options(new SoftLabelProtocol(other, soft)) with { Resume = true }).Accuracies);
        Assert.DoesNotContain(101.0, SyntheticSetEvaluation.Run(run, data, "bars", Options(new SoftLabelProtocol(teacher, soft with { Temperature = 4 })) with { Resume = true }).Accuracies);
        // ... nor hard-label repeats.
        Assert.DoesNotContain(101.0, SyntheticSetEvaluation.Run(run, data, "bars", Options(new DsaProtocol(new DsaProtocolOptions { Epochs = 2 })) with { Resume = true }).Accuracies);
    }

    [Fact]
    public void ATeacherOfOtherImagesIsAUserError()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(4);
        var run = dir.Combine("run");
        TinyData.WriteSet(data, run, 1);
        using var teacher = Teacher.LoadOrTrain(data, "bars", Norm, TeacherTests.Tiny(dir.Combine("cache")), 0, resolution: 16);
        var e = Assert.Throws<UserInputException>(() => SyntheticSetEvaluation.Run(run, data, "bars", Options(new SoftLabelProtocol(teacher, SoftLabelOptions.Rded with { Epochs = 1 }), 1)));
        Assert.Contains("1x16x16", e.Message);
        Assert.Contains("1x12x12", e.Message);
    }
}
