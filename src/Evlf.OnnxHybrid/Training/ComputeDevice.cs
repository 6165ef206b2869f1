using Evlf.OnnxHybrid.Onnx;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// Where TorchSharp trains, decided from the same <see cref="ExecutionDevice"/> that picks ONNX Runtime's execution
/// provider: <c>cuda</c> is libtorch's first CUDA device or an error, <c>auto</c> is CUDA when libtorch sees one and
/// otherwise the CPU (said once per process), <c>cpu</c> is the CPU. Every trainer takes the resolved device; modules
/// and batches move there, random draws stay on the CPU (so a CPU run repeats bit for bit), results come back to the CPU.
/// </summary>
public static class ComputeDevice
{
    static int fallbackReported;

    /// <summary>How to get a CUDA-capable libtorch, for the messages here.</summary>
    internal const string CudaBuildHint =
        "reference TorchSharp-cuda-linux (TorchSharp with libtorch-cuda-12.8-linux-x64; TorchSharp-cuda-windows on Windows) in the application instead of TorchSharp-cpu, and run it where an NVIDIA GPU and driver are visible";

    /// <summary>Why libtorch offers no CUDA device, as one phrase.</summary>
    internal const string NoCudaReason =
        "the loaded libtorch reports no CUDA device (torch.cuda.is_available() is false: a CPU-only build such as TorchSharp-cpu, or a CUDA build with no NVIDIA GPU visible)";

    /// <summary>
    /// The TorchSharp device for <paramref name="requested"/>. <c>cuda</c> without a CUDA device is a
    /// <see cref="UserInputException"/> about <paramref name="option"/> (the options property the device came from, e.g.
    /// <c>DistillOptions.Device</c>); <c>auto</c> without one logs, once per process, that training runs on the CPU and why.
    /// </summary>
    public static Device Resolve(ExecutionDevice requested, ILogger? logger = null, string option = "Device")
    {
        TorchSharpLoader.Ensure();
        return Resolve(requested, requested == ExecutionDevice.Cpu ? false : cuda.is_available(), logger, option, ref fallbackReported);
    }

    /// <summary>
    /// Refuses <c>cuda</c> that libtorch cannot give, as <see cref="Resolve(ExecutionDevice, ILogger?, string)"/> would, but
    /// before any work (a dataset read, a folder claimed, an hour of training); <c>auto</c> and <c>cpu</c> pass, and auto's
    /// notice waits for the training itself.
    /// </summary>
    public static void RequireAvailable(ExecutionDevice requested, string option = "Device")
    {
        if (requested == ExecutionDevice.Cuda) Resolve(requested, null, option);
    }

    /// <summary>The decision itself, with libtorch's answer and the once-per-process flag given (tests drive both).</summary>
    internal static Device Resolve(ExecutionDevice requested, bool cudaAvailable, ILogger? logger, string option, ref int reported)
    {
        switch (requested)
        {
            case ExecutionDevice.Cpu:
                return CPU;
            case ExecutionDevice.Cuda when cudaAvailable:
            case ExecutionDevice.Auto when cudaAvailable:
                // GPU 0, the one ONNX Runtime's CUDA provider takes by default (SessionSettings.CudaDeviceId), so latents passed
                // between the two stay on one device. (torch.CUDA would initialise the CUDA backend here, before it is used.)
                return new Device(DeviceType.CUDA, 0);
            case ExecutionDevice.Cuda:
                throw UserInputException.ForOption(option, $"is cuda but {NoCudaReason}; {CudaBuildHint}, or choose cpu or auto.");
            default:
                // Without a logger there is nobody to tell; the notice waits for a caller that has one.
                if (logger is not null && Interlocked.Exchange(ref reported, 1) == 0)
                    logger.LogInformation("TorchSharp: training runs on the CPU because {Why}.", NoCudaReason);
                return CPU;
        }
    }
}
