using System.Runtime.InteropServices;
using TorchSharp;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Which libtorch kernels run the importer's CPU convolutions. libtorch hands float convolutions to its bundled oneDNN,
/// which first reorders the weights into channel blocks (16 or 8 wide for the direct kernels, 32 or 48 for the strided
/// brgemm ones). The oneDNN 3.7.1 inside libtorch 2.10 (TorchSharp-cpu 0.107.0) gets a partial last block wrong: the
/// block's zero padding is written over the weights of the next kernel taps, and the padding lanes themselves keep
/// whatever the allocator left there. So a Conv or ConvTranspose whose channel count is not a whole number of blocks
/// — a decoder's 1- or 3-channel conv_out (backward), a 20-channel conv (forward), a stride-2 3×3 conv over 48 or 80
/// channels (backward) — is wrong at any thread count, and with two OpenMP threads the stale lanes differ from run to
/// run: NaN losses, runs that disagree, importer outputs far from ONNX Runtime. libtorch's native kernels
/// (im2col + GEMM, as for float64) are exact and, for a fixed thread count, repeat bit for bit. NNPACK, which libtorch
/// tries next for some convolutions, is switched off too: it is another kernel family whose results need not repeat, and
/// where the CPU lacks it libtorch prints a warning for every convolution.
/// </summary>
public static class ConvolutionBackend
{
    // at::globalContext() and at::Context::{setUserEnabledMkldnn, userEnabledMkldnn}: the switch behind PyTorch's
    // torch.backends.mkldnn.enabled, which TorchSharp does not bind. Itanium (Linux, macOS) and MSVC spellings.
    // at::Context::setUserEnabledNNPACK: torch.backends.nnpack's switch.
    static readonly (string Library, string GlobalContext, string SetEnabled, string IsEnabled, string SetNnpack)[] Exports =
    {
        ("libtorch_cpu.so", "_ZN2at13globalContextEv", "_ZN2at7Context20setUserEnabledMkldnnEb", "_ZNK2at7Context17userEnabledMkldnnEv", "_ZN2at7Context20setUserEnabledNNPACKEb"),
        ("libtorch_cpu.dylib", "_ZN2at13globalContextEv", "_ZN2at7Context20setUserEnabledMkldnnEb", "_ZNK2at7Context17userEnabledMkldnnEv", "_ZN2at7Context20setUserEnabledNNPACKEb"),
        ("torch_cpu.dll", "?globalContext@at@@YAAEAVContext@1@XZ", "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z", "?userEnabledMkldnn@Context@at@@QEBA_NXZ", "?setUserEnabledNNPACK@Context@at@@QEAAX_N@Z"),
    };

    static readonly object Gate = new();
    static bool? nativeKernels;

    /// <summary>
    /// Turns libtorch's oneDNN convolutions off for the whole process (libtorch keeps one switch), once; later calls
    /// return the first answer. True when libtorch now runs convolutions on its native kernels; false where the switch
    /// could not be reached (another libtorch build), which leaves libtorch's choice unchanged.
    /// </summary>
    public static bool UseNativeKernels()
    {
        lock (Gate)
        {
            nativeKernels ??= TurnOffOneDnn();
            return nativeKernels.Value;
        }
    }

    static unsafe bool TurnOffOneDnn()
    {
        // TorchSharp loads libtorch on first use; looking the library up by name then finds that copy, not a second one.
        TorchSharpLoader.Ensure();
        foreach (var (library, globalContext, setEnabled, isEnabled, setNnpack) in Exports)
        {
            if (!NativeLibrary.TryLoad(library, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, globalContext, out var contextFn)
                || !NativeLibrary.TryGetExport(handle, setEnabled, out var setFn)
                || !NativeLibrary.TryGetExport(handle, isEnabled, out var getFn)) continue;
            nint context = ((delegate* unmanaged<nint>)contextFn)();
            ((delegate* unmanaged<nint, byte, void>)setFn)(context, 0);
            if (NativeLibrary.TryGetExport(handle, setNnpack, out var nnpackFn)) ((delegate* unmanaged<nint, byte, void>)nnpackFn)(context, 0);
            return ((delegate* unmanaged<nint, byte>)getFn)(context) == 0;
        }
        return false;
    }
}
