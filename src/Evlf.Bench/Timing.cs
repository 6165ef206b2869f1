using System.Diagnostics;
using static TorchSharp.torch;

namespace Evlf.Bench;

/// <summary>Times an action: warm-up runs, then the median of timed runs, each in its own dispose scope.</summary>
public static class Timing
{
    /// <summary>The median milliseconds of <paramref name="runs"/> calls of <paramref name="action"/> after <paramref name="warmup"/> untimed ones.</summary>
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

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
