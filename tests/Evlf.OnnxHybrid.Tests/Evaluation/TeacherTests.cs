using System.Text;
using Evlf.OnnxHybrid.Classifiers;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Tests.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class TeacherTests
{
    static readonly Normalization Norm = Normalization.MeanStd([0.3f], [0.3f]);

    /// <summary>A ConvNet-1 teacher, one epoch over the 30 training images of <see cref="TinyData.Bars"/>: well under a second.</summary>
    public static TeacherOptions Tiny(string cache) => new()
    {
        Architecture = ClassifierArchitecture.Parse("convnet1"),
        Epochs = 1,
        BatchSize = 8,
        CacheDirectory = cache,
    };

    static float[] LogitsOf(Teacher teacher, ImageDataset data)
    {
        using var test = LabelledImages.Load(data.Test, Norm, 1, 12, 12);
        using var logits = teacher.Logits(test.Images);
        return logits.data<float>().ToArray();
    }

    [Fact]
    public void SecondRequestReadsTheCacheEntryAndGetsTheSameNetwork()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(10);
        var options = Tiny(dir.Combine("cache"));
        using var first = Teacher.LoadOrTrain(data, "bars", Norm, options, seed: 3);
        Assert.False(first.FromCache);
        Assert.True(File.Exists(first.CachePath));
        Assert.StartsWith(dir.Combine("cache"), first.CachePath);
        Assert.StartsWith(Teacher.Magic + "\n{", Encoding.UTF8.GetString(File.ReadAllBytes(first.CachePath)[..(Teacher.Magic.Length + 2)]));
        Assert.InRange(first.TestAccuracy, 0, 1);

        using var second = Teacher.LoadOrTrain(data, "bars", Norm, options, seed: 3);
        Assert.True(second.FromCache);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal(first.TestAccuracy, second.TestAccuracy, 1e-12);
        Assert.Equal(LogitsOf(first, data), LogitsOf(second, data));
        Assert.Single(Directory.GetFiles(dir.Combine("cache")));
    }

    [Fact]
    public void TheKeyChangesWithTheDataSeedNetworkAndSettings()
    {
        var data = TinyData.Bars(10);
        var options = Tiny("/unused");
        string key = Teacher.KeyOf(data, "bars", Norm, options, 3, null);
        Assert.Equal(key, Teacher.KeyOf(data, "bars", Norm, options with { CacheDirectory = "/elsewhere" }, 3, null)); // where it is cached is no part of it
        Assert.Equal(key, Teacher.KeyOf(TinyData.Bars(10), "bars", Norm, options, 3, null));
        var others = new[]
        {
            Teacher.KeyOf(data, "bars", Norm, options, 4, null),
            Teacher.KeyOf(TinyData.Bars(10, seed: 1), "bars", Norm, options, 3, null),
            Teacher.KeyOf(data, "other-spec", Norm, options, 3, null),
            Teacher.KeyOf(data, "bars", Normalization.MeanStd([0.5f], [0.3f]), options, 3, null),
            Teacher.KeyOf(data, "bars", Norm, options with { Epochs = 2 }, 3, null),
            Teacher.KeyOf(data, "bars", Norm, options with { Architecture = ClassifierArchitecture.Parse("convnet2") }, 3, null),
            Teacher.KeyOf(data, "bars", Norm, options with { LearningRate = 0.02 }, 3, null),
            Teacher.KeyOf(data, "bars", Norm, options with { Augmentation = "none" }, 3, null),
            Teacher.KeyOf(data, "bars", Norm, options, 3, 16),
        };
        Assert.Equal(others.Length + 1, others.Append(key).Distinct().Count());
        Assert.Matches("^[0-9a-f]{16}$", key);
    }

    [Fact]
    public void TrainingIsDeterministicForASeed()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(10);
        using var a = Teacher.LoadOrTrain(data, "bars", Norm, Tiny(dir.Combine("a")), seed: 5);
        using var b = Teacher.LoadOrTrain(data, "bars", Norm, Tiny(dir.Combine("b")), seed: 5);
        using var c = Teacher.LoadOrTrain(data, "bars", Norm, Tiny(dir.Combine("c")), seed: 6);
        Assert.False(b.FromCache);
        Assert.Equal(BitConverter.DoubleToInt64Bits(a.TestAccuracy), BitConverter.DoubleToInt64Bits(b.TestAccuracy));
        Assert.Equal(LogitsOf(a, data), LogitsOf(b, data));
        Assert.NotEqual(LogitsOf(a, data), LogitsOf(c, data));
    }

    [Fact]
    public void AFileEvlfDidNotWriteIsNeverOverwrittenButADamagedEntryIsRetrained()
    {
        using var dir = new TempDir();
        var data = TinyData.Bars(10);
        var options = Tiny(dir.Combine("cache"));
        string key = Teacher.KeyOf(data, "bars", Norm, options, 3, null);
        var path = dir.Write($"cache/convnet1-{key}{Teacher.Extension}", Encoding.UTF8.GetBytes("someone else's notes\n"));
        var e = Assert.Throws<UserInputException>(() => Teacher.LoadOrTrain(data, "bars", Norm, options, seed: 3));
        Assert.Contains(path, e.Message);
        Assert.Contains("not written by evlf", e.Message);
        Assert.Equal("someone else's notes\n", File.ReadAllText(path));

        // A file of evlf's own that is cut short (a full disk, say) is trained anew and replaced.
        File.WriteAllText(path, Teacher.Magic + "\n{\"key\":\"" + key + "\",\"testAccuracy\":50}\n");
        using var teacher = Teacher.LoadOrTrain(data, "bars", Norm, options, seed: 3);
        Assert.False(teacher.FromCache);
        using var again = Teacher.LoadOrTrain(data, "bars", Norm, options, seed: 3);
        Assert.True(again.FromCache);
        Assert.Equal(teacher.TestAccuracy, again.TestAccuracy, 1e-12);
    }

    [Fact]
    public void OptionsAreValidatedByName()
    {
        var data = TinyData.Bars(2);
        foreach (var (bad, option) in new (TeacherOptions, string)[]
                 {
                     (Tiny("/x") with { Epochs = 0 }, "TeacherOptions.Epochs"),
                     (Tiny("/x") with { LearningRate = -1 }, "TeacherOptions.LearningRate"),
                     (Tiny("/x") with { Augmentation = "crop_blur" }, "TeacherOptions.Augmentation"),
                     (Tiny("/x") with { CacheDirectory = " " }, "TeacherOptions.CacheDirectory"),
                 })
        {
            var e = Assert.Throws<UserInputException>(() => Teacher.LoadOrTrain(data, "bars", Norm, bad, 0));
            Assert.Equal(option, e.Option);
        }
    }
}
