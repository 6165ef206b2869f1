using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Training;

namespace Evlf.Cli.Commands;

/// <summary>
/// --device, read the same way by every command that has it (distill, sample, train-fusion, eval, pretrain): auto, cpu
/// or cuda by name, in any case; a number is refused even where it would name an enum value.
/// </summary>
static class DeviceFlag
{
    /// <summary>The device <paramref name="value"/> names; null when it names none.</summary>
    public static ExecutionDevice? Parse(string value) =>
        Enum.TryParse<ExecutionDevice>(value, true, out var device) && Enum.IsDefined(device) && !int.TryParse(value, out _) ? device : null;

    /// <summary>Why <paramref name="value"/> is not a device, as one line; null when it is.</summary>
    public static string? Error(string value) => Parse(value) is null ? $"--device must be auto, cpu or cuda; got '{value}'." : null;

    /// <summary>The device <paramref name="value"/> names (a command's Validate has refused every other value).</summary>
    public static ExecutionDevice Read(string value) => Parse(value) ?? throw new UserInputException(Error(value)!);

    /// <summary>
    /// cuda asked of a libtorch without it, refused before any work (a dataset read, a folder claimed) with the sentence
    /// that names <paramref name="option"/>; auto's notice waits for the training itself.
    /// </summary>
    public static void RefuseUnavailableCuda(ExecutionDevice device, string option)
    {
        if (device == ExecutionDevice.Cuda) ComputeDevice.Resolve(device, null, option);
    }
}
