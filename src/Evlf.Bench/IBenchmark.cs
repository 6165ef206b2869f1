namespace Evlf.Bench;

/// <summary>One measurement of `evlf bench`: runs on this machine, prints what it found and adds its figures to the report.</summary>
public interface IBenchmark
{
    /// <summary>Measures, prints through <see cref="BenchContext.Output"/> and records under <see cref="BenchContext.Report"/>; leaves out what the options or inputs rule out.</summary>
    void Run(BenchContext context);
}
