using System.Diagnostics;
using static TorchSharp.torch;

namespace Evlf.Cli.Bench;

/// <summary>Times an action: warm-up runs, then the median of timed runs, each in its own dispose scope.</summary>
public static class Timing
{
    public static double MedianMilliseconds(Action action, int warmup = 3, int runs = 10)
    {
        for (int i = 0; i < warmup; i++) Once(action);
        var times = new double[runs];
        for (int i = 0; i < runs; i++) times[i] = Once(action);
        return Median(times);
    }

    /// <summary>
    /// Two actions timed in alternation (A, B, A, B, …) after warm-up, the median of each: a comparison that drifts in
    /// machine speed (other load, clocks) affects both sides alike instead of whichever ran second.
    /// </summary>
    public static (double A, double B) MedianMillisecondsInterleaved(Action a, Action b, int warmup = 3, int runs = 10)
    {
        for (int i = 0; i < warmup; i++)
        {
            Once(a);
            Once(b);
        }
        var timesA = new double[runs];
        var timesB = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            timesA[i] = Once(a);
            timesB[i] = Once(b);
        }
        return (Median(timesA), Median(timesB));
    }

    /// <summary>One run in its own dispose scope, in milliseconds.</summary>
    static double Once(Action action)
    {
        using var scope = NewDisposeScope();
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    static double Median(double[] times)
    {
        Array.Sort(times);
        int n = times.Length;
        return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    }
}
