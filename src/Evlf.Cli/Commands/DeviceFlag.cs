using Evlf.OnnxHybrid;
using Evlf.OnnxHybrid.Onnx;

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
}
