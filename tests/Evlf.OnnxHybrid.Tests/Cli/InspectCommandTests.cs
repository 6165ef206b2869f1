using System.Globalization;
using Evlf.OnnxHybrid.Tests.Onnx;

namespace Evlf.OnnxHybrid.Tests.Cli;

public class InspectCommandTests
{
    [Fact]
    public void DescribesAModel()
    {
        var r = EvlfProcess.Run("inspect", new Fixture("dit").ModelPath);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("parameters:", r.Stdout);
        Assert.Contains("MatMul", r.Stdout);
        Assert.Contains("batch", r.Stdout);
    }

    [Fact]
    public void ParityPrintsOneLinePerOutput()
    {
        var r = EvlfProcess.Run("inspect", new Fixture("clip_text").ModelPath, "--parity", "--dim", "seq=5");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n').Where(l => l.StartsWith("max_abs_diff: ")).ToList();
        Assert.Equal(2, lines.Count);
        foreach (var l in lines)
        {
            double v = double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            Assert.InRange(v, 0, 1e-4);
        }
        Assert.Contains("input_ids Int64[2,5]", r.Stdout);
        Assert.Contains("parity ok (importer vs ONNX Runtime): 2 outputs", r.Stdout);
    }

    [Fact]
    public void ParityAboveTheToleranceFailsWithExitCodeOne()
    {
        // float32 kernels of the two runtimes never agree to 1e-12, so this tolerance must fail.
        var r = EvlfProcess.Run("inspect", new Fixture("clip_text").ModelPath, "--parity", "--dim", "seq=5", "--tolerance", "1e-12");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("  FAIL", r.Stdout);
        Assert.Contains("parity FAILED (importer vs ONNX Runtime)", r.Stdout);
        Assert.Contains("--tolerance", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", new Fixture("clip_text").ModelPath, "--parity", "--tolerance", "0")));
    }

    [Fact]
    public void TrainCheckPrintsLossesThatFall()
    {
        foreach (var target in new[] { "outputs", "noise" })
        {
            var r = EvlfProcess.Run("inspect", new Fixture("external_data").ModelPath, "--train-check", "--target", target);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains(target == "noise" ? "fitting N(0,1) noise" : "fitting the outputs for random inputs of seed 1", r.Stdout);
            double Read(string key) => double.Parse(r.Stdout.Split('\n').Single(l => l.StartsWith(key)).Substring(key.Length).Trim(), CultureInfo.InvariantCulture);
            Assert.True(Read("loss_after:") <= 0.5 * Read("loss_before:"), target);
        }
        Assert.Contains("--target", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", new Fixture("external_data").ModelPath, "--train-check", "--target", "zeros")));
    }

    [Fact]
    public void BadPathsAreExitTwoWithOneLine()
    {
        var dir = Directory.CreateTempSubdirectory("evlf-cli-").FullName;
        try
        {
            Assert.Contains("was not found", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", Path.Combine(dir, "nope.onnx"))));
            Assert.Contains("is a folder", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir)));
            var truncated = Path.Combine(dir, "t.onnx");
            var bytes = File.ReadAllBytes(new Fixture("unet").ModelPath);
            File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
            Assert.Contains("truncated", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", truncated)));
            var text = Path.Combine(dir, "x.onnx");
            File.WriteAllText(text, "hello");
            EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", text));
            Assert.Contains("--dim", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", new Fixture("dit").ModelPath, "--parity", "--dim", "seq")));
            EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", "--no-such-flag"));
            EvlfProcess.AssertUserError(EvlfProcess.Run("frobnicate"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
