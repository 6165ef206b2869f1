using System.Runtime.InteropServices;
using TorchSharp;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// Thread settings for training on shared CPUs. libtorch's OpenMP workers (GNU libgomp) spin for 300 000
/// iterations by default before sleeping when they have as many threads as cores; on a machine shared with other
/// processes the spinning threads steal the cores that the working ones need. Measured here with another
/// process busy: a ConvNet-3 training step at 2 threads took a median 4.7–6.7 s by default, 1.1–1.6 s with
/// GOMP_SPINCOUNT=1000 and 0.9–1.7 s at 1 thread.
/// </summary>
public static class TorchThreads
{
    /// <summary>Spin iterations before an idle OpenMP worker sleeps, when the user has not chosen (libgomp's own value when oversubscribed).</summary>
    public const int DefaultSpinCount = 1000;

    /// <summary>
    /// Sets GOMP_SPINCOUNT in the native environment unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is already set.
    /// Only effective before libtorch is loaded (the first TorchSharp call of the process), so command lines call it
    /// first. Returns whether it set the variable.
    /// </summary>
    public static bool PreferShortSpin(int spinCount = DefaultSpinCount)
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null) return false;
        try
        {
            // .NET keeps its own copy of the environment on Unix; native code reads libc's.
            return setenv("GOMP_SPINCOUNT", spinCount.ToString(System.Globalization.CultureInfo.InvariantCulture), 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Sets libtorch's intra-op threads; 0 means one per core.</summary>
    public static int Set(int threads)
    {
        int n = threads > 0 ? threads : Environment.ProcessorCount;
        torch.set_num_threads(n);
        return n;
    }

    [DllImport("libc.so.6", CallingConvention = CallingConvention.Cdecl, CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
