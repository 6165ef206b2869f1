namespace Evlf.Bench;

/// <summary>
/// What `evlf bench` measures and where it writes bench.json; the CLI maps its flags onto these and nothing else.
/// </summary>
public sealed record BenchOptions
{
    /// <summary>Fewer repetitions and a shorter end-to-end distill (a few minutes in all).</summary>
    public bool Quick { get; init; }

    /// <summary>The folder that receives bench.json.</summary>
    public string Out { get; init; } = ".";

    /// <summary>The bundle whose networks, sampler and distill are timed; its benchmarks are left out when the folder is missing.</summary>
    public string Bundle { get; init; } = "models/fmnist-ldm";

    /// <summary>The data spec of the ConvNet-3 training and the end-to-end distill.</summary>
    public string Data { get; init; } = "fashion-mnist";

    /// <summary>Leave out the end-to-end distill (and its PyTorch-eager counterpart).</summary>
    public bool SkipDistill { get; init; }

    /// <summary>The interpreter with torch for the PyTorch-eager twins; null: <see cref="PyTorch.PythonReference.DefaultInterpreter"/> when it exists.</summary>
    public string? Python { get; init; }

    /// <summary>Leave out the PyTorch-eager timings (stages and end-to-end distill) and their ratios.</summary>
    public bool NoPython { get; init; }

    /// <summary>Timed repetitions of the short measurements (their median is reported).</summary>
    public int Runs => Quick ? 5 : 20;
}
