using System.Runtime.InteropServices;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// Keeps libtorch's large freed blocks in the process instead of returning them to the kernel. glibc serves
/// blocks above its mmap threshold (at most 32 MB) with fresh mmap calls and unmaps them on free, so every
/// training step re-faults its largest activations page by page — ConvNet-3's first block at batch 100 is
/// 100×128×32×32 floats = 52 MB per tensor. On this project's 2-core machines that made the first block's
/// conv, GroupNorm and ReLU 2–3× slower. With mmap off and a 1 GB trim threshold those blocks are reused.
/// Process-wide and idempotent; does nothing outside Linux or where mallopt is missing (musl accepts and ignores it).
/// </summary>
public static class NativeAllocator
{
    private const int MTrimThreshold = -1;
    private const int MMmapMax = -4;
    private static int applied;

    /// <summary>Applies the setting once per process; returns whether glibc accepted it (false on later calls and on other platforms).</summary>
    public static bool RetainLargeBlocks()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref applied, 1) == 1) return false;
        try
        {
            return mallopt(MMmapMax, 0) == 1 & mallopt(MTrimThreshold, 1 << 30) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc.so.6", CallingConvention = CallingConvention.Cdecl)]
    private static extern int mallopt(int parameter, int value);
}
