using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using Evlf.Cli;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Output;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>The library's messages name its own options; the command line renames them to its flags (OptionFlags).</summary>
public sealed class UserInputExceptionTests
{
    [Fact]
    public void A_message_naming_several_options_renames_each_and_keeps_the_unknown()
    {
        var e = UserInputException.ForOptions("A.Out 'x' lies inside A.Output 'y'; choose another A.Out (not B.C).", ["A.Out", "A.Output", "B.C"]);
        Assert.Null(e.Option);
        Assert.Equal(["A.Out", "A.Output", "B.C"], e.Options);
        var named = e.MessageNaming(o => o switch { "A.Out" => "--out", "A.Output" => "--output", _ => null });
        Assert.Equal("--out 'x' lies inside --output 'y'; choose another --out (not B.C).", named);
        Assert.Equal(["A.Ipc"], UserInputException.ForOption("A.Ipc", "must be 1.").Options);
    }

    [Fact]
    public void Paths_apart_in_a_distill_read_as_library_options_and_as_flags_on_the_command_line()
    {
        var root = Directory.CreateTempSubdirectory("evlf-apart-").FullName;
        try
        {
            var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
            var options = DistillOptions.For(DistillMethod.Random) with { Data = "folder:" + data, Out = Path.Combine(data, "run") };
            var e = Assert.Throws<UserInputException>(() => new DistillationPipeline(options).Run());
            Assert.Equal($"DistillOptions.Out '{options.Out}' lies inside DistillOptions.Data '{data}'; evlf never writes into its inputs, so point DistillOptions.Out outside it.", e.Message);
            Assert.Equal($"--out '{options.Out}' lies inside --data '{data}'; evlf never writes into its inputs, so point --out outside it.", e.MessageNaming(OptionFlags.Of));

            // A folder evlf did not write names the force switch too.
            var foreign = Directory.CreateDirectory(Path.Combine(root, "foreign")).FullName;
            File.WriteAllText(Path.Combine(foreign, "mine.txt"), "");
            var refused = Assert.Throws<UserInputException>(() => new RunFolder(foreign, force: false));
            Assert.Contains("pass DistillOptions.Force", refused.Message);
            Assert.StartsWith($"--out '{foreign}' already holds files evlf did not write", refused.MessageNaming(OptionFlags.Of));
            Assert.Contains("pass --force", refused.MessageNaming(OptionFlags.Of));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Every_option_the_library_names_in_messages_has_a_flag()
    {
        foreach (var option in new[] { DatasetInspector.SkipBadOption, OnnxHybrid.Onnx.RandomInputs.BatchOption, OnnxHybrid.Onnx.RandomInputs.DimsOption, OnnxHybrid.Onnx.OnnxSession.DeviceOption, OnnxHybrid.Training.TorchThreads.ThreadsOption,
                     "EvaluationOptions.Resolution", "ReportOptions.Out", "DistillOptions.Out", "DistillOptions.Cache", "DistillOptions.Force",
                     "DistillOptions.Data", "DistillOptions.Bundle", "DistillOptions.Device", "DistillOptions.RealDetail", "DistillOptions.OwnView" })
            Assert.True(OptionFlags.Of(option) is not null, $"{option} has no flag");
    }

    [Fact]
    public void No_string_of_the_library_names_a_command_line_flag()
    {
        using var stream = File.OpenRead(typeof(UserInputException).Assembly.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var flagged = new List<string>();
        for (var handle = MetadataTokens.UserStringHandle(1); !handle.IsNil; handle = metadata.GetNextHandle(handle))
        {
            var text = metadata.GetUserString(handle);
            if (Regex.IsMatch(text, @"(^|[^-\w])--[a-z]")) flagged.Add(text);
        }
        Assert.Empty(flagged);
    }
}
