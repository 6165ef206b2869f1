using TorchSharp;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// Thread settings for training on shared CPUs. libtorch's OpenMP workers (GNU libgomp) spin for 300 000
/// iterations by default before sleeping when they have as many threads as cores; on a machine shared with other
/// processes the spinning threads steal the cores that the working ones need, and a short spin makes every small op
/// pay a wake-up. Measured on the 2-core machine (<see cref="DefaultSpinCount"/>): with another process busy, a
/// ConvNet-3 training step at 2 threads took a median 4.7–6.7 s by default, 1.1–1.6 s with GOMP_SPINCOUNT=1000; two
/// ConvNet-3 trainings at once ran at 165 images/s each with 1000 and 120 with 30 000. Alone, 1000 cost much more:
/// ConvNet-3 at 185–260 images/s against 241–317 with libgomp's default, and a fusion training step (2 × 16) at
/// 178–210 ms against 118–152 ms, where 30 000 read 124–158 ms and 10 000 173–329 ms.
/// </summary>
public static class TorchThreads
{
    /// <summary>
    /// Spin iterations before an idle OpenMP worker sleeps, when the user has not chosen: as fast as libgomp's default
    /// (300 000) for a process alone, a tenth of its spinning when the cores are shared (set GOMP_SPINCOUNT=1000 when
    /// running several trainings at once).
    /// </summary>
    public const int DefaultSpinCount = 30_000;

    /// <summary>
    /// Sets GOMP_SPINCOUNT in the native environment unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is already set.
    /// Only effective before libtorch is loaded (the first TorchSharp call of the process), so command lines call it
    /// first. Returns whether it set the variable.
    /// </summary>
    public static bool PreferShortSpin(int spinCount = DefaultSpinCount)
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return false;
        return NativeEnvironment.SetDefault("GOMP_SPINCOUNT", spinCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>More intra-op threads than this per core only adds contention (and 100 000 makes libtorch hang creating them).</summary>
    public const int MaxPerCore = 4;

    /// <summary>The thread count of <see cref="Set"/>, as messages name it.</summary>
    public const string ThreadsOption = $"{nameof(TorchThreads)}.{nameof(Set)}(threads)";

    /// <summary>
    /// Throws a <see cref="UserInputException"/> unless <paramref name="threads"/> is 0 (one per core) to <see cref="MaxPerCore"/>
    /// per core; the message names the count <paramref name="option"/> (<see cref="UserInputException.Options"/>).
    /// </summary>
    public static void Check(int threads, string option = ThreadsOption)
    {
        int max = MaxPerCore * Environment.ProcessorCount;
        if (threads < 0 || threads > max)
            throw UserInputException.ForOption(option, $"must be 0 (one per core) to {max} ({MaxPerCore} per core of this machine's {Environment.ProcessorCount}); got {threads}.");
    }

    /// <summary>Sets libtorch's intra-op threads; 0 means one per core. Out-of-range counts are a <see cref="UserInputException"/> (<see cref="Check"/>).</summary>
    public static int Set(int threads)
    {
        Check(threads);
        int n = threads > 0 ? threads : Environment.ProcessorCount;
        torch.set_num_threads(n);
        return n;
    }
}
