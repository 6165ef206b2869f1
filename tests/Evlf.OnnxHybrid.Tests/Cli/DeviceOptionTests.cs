using Evlf.OnnxHybrid.Tests.Data;
using Xunit;

namespace Evlf.OnnxHybrid.Tests.Cli;

/// <summary>`--device` decides where TorchSharp trains too: on this CPU-only libtorch, cuda is refused before any work, by its flag.</summary>
public class DeviceOptionTests
{
    [Fact]
    public void EvalRefusesCudaWithoutCudaLibtorchNamingTheFlagAndTheFix()
    {
        if (TorchSharp.torch.cuda.is_available()) return;  // a CUDA build: nothing to refuse
        string message = EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", "no-such-run", "--data", "no-such-data", "--device", "cuda"));
        Assert.StartsWith("error: --device is cuda but the loaded libtorch reports no CUDA device", message.Trim());
        Assert.Contains("TorchSharp-cuda-linux", message);
    }

    [Fact]
    public void EvalRefusesAnUnknownDevice()
    {
        string message = EvlfProcess.AssertUserError(EvlfProcess.Run("eval", "--synthetic", "no-such-run", "--data", "no-such-data", "--device", "gpu"));
        Assert.Contains("--device must be auto, cpu or cuda; got 'gpu'", message);
    }

    [Theory]
    [InlineData("distill")]
    [InlineData("sample")]
    [InlineData("train-fusion")]
    [InlineData("pretrain")]
    [InlineData("eval", "--synthetic", "no-such-run")]
    public void EveryCommandReadsTheDeviceByNameOnly(string command, params string[] required)
    {
        // 1 would be cpu's enum value; every command refuses it alike, before any work.
        string message = EvlfProcess.AssertUserError(EvlfProcess.Run([command, .. required, "--device", "1"]));
        Assert.Contains("--device must be auto, cpu or cuda; got '1'.", message);
    }

    [Fact]
    public void PretrainRefusesCudaWithoutCudaLibtorchBeforeReadingAnything()
    {
        if (TorchSharp.torch.cuda.is_available()) return;
        using var dir = new TempDir();
        var output = dir.Combine("bundle");
        string message = EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--data", "idx:" + dir.Combine("no-such-data"), "--out", output, "--device", "cuda"));
        Assert.StartsWith("error: --device is cuda but the loaded libtorch reports no CUDA device", message.Trim());
        Assert.False(Directory.Exists(output)); // refused before the output folder was claimed
        Assert.Contains("--device must be auto, cpu or cuda; got 'gpu'",
            EvlfProcess.AssertUserError(EvlfProcess.Run("pretrain", "--out", output, "--device", "gpu")));
    }
}
