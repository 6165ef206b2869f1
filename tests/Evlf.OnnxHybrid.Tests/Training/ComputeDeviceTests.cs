using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Xunit;

namespace Evlf.OnnxHybrid.Tests.Training;

public class ComputeDeviceTests
{
    [Fact]
    public void CpuIsTheCpuWhateverLibtorchOffers()
    {
        int reported = 0;
        var logger = new ListLogger();
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(ExecutionDevice.Cpu, cudaAvailable: true, logger, "X.Device", ref reported).type);
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(ExecutionDevice.Cpu, cudaAvailable: false, logger, "X.Device", ref reported).type);
        Assert.Empty(logger.Lines);
    }

    [Theory]
    [InlineData(ExecutionDevice.Cuda)]
    [InlineData(ExecutionDevice.Auto)]
    public void CudaAndAutoTakeCudaWhenLibtorchHasIt(ExecutionDevice requested)
    {
        int reported = 0;
        var logger = new ListLogger();
        Assert.Equal(DeviceType.CUDA, ComputeDevice.Resolve(requested, cudaAvailable: true, logger, "X.Device", ref reported).type);
        Assert.Empty(logger.Lines);
    }

    [Fact]
    public void CudaWithoutCudaIsOneSentenceAboutTheOptionWithTheFix()
    {
        int reported = 0;
        var e = Assert.Throws<UserInputException>(() => ComputeDevice.Resolve(ExecutionDevice.Cuda, cudaAvailable: false, null, "DistillOptions.Device", ref reported));
        Assert.Equal("DistillOptions.Device", e.Option);
        Assert.StartsWith("DistillOptions.Device is cuda but the loaded libtorch reports no CUDA device", e.Message);
        Assert.Contains("TorchSharp-cuda-linux", e.Message);
        Assert.Contains("libtorch-cuda-12.8-linux-x64", e.Message);
        Assert.Contains("choose cpu or auto", e.Message);
        // A library message names options, never command-line flags; and it is one sentence.
        Assert.DoesNotContain("--", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Single(e.Message.Split(". ", StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("--device" + e.Message["DistillOptions.Device".Length..], e.MessageNaming(o => o == "DistillOptions.Device" ? "--device" : null));
    }

    [Fact]
    public void AutoWithoutCudaFallsBackToTheCpuAndSaysSoOnce()
    {
        int reported = 0;
        var logger = new ListLogger();
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(ExecutionDevice.Auto, cudaAvailable: false, logger, "X.Device", ref reported).type);
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(ExecutionDevice.Auto, cudaAvailable: false, logger, "X.Device", ref reported).type);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.StartsWith("TorchSharp: training runs on the CPU because the loaded libtorch reports no CUDA device", line.Message);
    }

    [Fact]
    public void AutoWithoutALoggerLeavesTheNoticeForOneThatHasOne()
    {
        int reported = 0;
        ComputeDevice.Resolve(ExecutionDevice.Auto, cudaAvailable: false, null, "X.Device", ref reported);
        var logger = new ListLogger();
        ComputeDevice.Resolve(ExecutionDevice.Auto, cudaAvailable: false, logger, "X.Device", ref reported);
        Assert.Single(logger.Lines);
    }

    /// <summary>This machine's libtorch is TorchSharp-cpu: the public entry point sees no CUDA, so cuda is refused and auto is the CPU.</summary>
    [Fact]
    public void OnThisCpuOnlyBuildCudaIsRefusedAndAutoIsTheCpu()
    {
        if (torch.cuda.is_available()) return;  // a CUDA build: the cases above cover it
        var e = Assert.Throws<UserInputException>(() => ComputeDevice.Resolve(ExecutionDevice.Cuda, option: "EvaluationOptions.Device"));
        Assert.Equal("EvaluationOptions.Device", e.Option);
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(ExecutionDevice.Auto).type);
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(ExecutionDevice.Cpu).type);
    }

    /// <summary>The check before any work refuses what Resolve refuses, with the same option named, and passes auto and cpu.</summary>
    [Fact]
    public void RequireAvailableRefusesOnlyCudaThatLibtorchCannotGive()
    {
        ComputeDevice.RequireAvailable(ExecutionDevice.Cpu);
        ComputeDevice.RequireAvailable(ExecutionDevice.Auto);
        if (torch.cuda.is_available()) { ComputeDevice.RequireAvailable(ExecutionDevice.Cuda); return; }
        var e = Assert.Throws<UserInputException>(() => ComputeDevice.RequireAvailable(ExecutionDevice.Cuda, "PretrainOptions.Device"));
        Assert.Equal("PretrainOptions.Device", e.Option);
    }
}
