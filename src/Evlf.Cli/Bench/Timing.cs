using System.Diagnostics;
using static TorchSharp.torch;

namespace Evlf.Cli.Bench;

/// <summary>Times an action: warm-up runs, then the median of timed runs, each in its own dispose scope.</summary>
public static class Timing
{
    public static double MedianMilliseconds(Action action, int warmup = 3, int runs = 10)
    {
        for (int i = 0; i < warmup; i++) using (NewDisposeScope()) action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            using var scope = NewDisposeScope();
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }
}
