using Evlf.OnnxHybrid.Evaluation.Metrics;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>Settings of <see cref="ResultsReport.Write"/> (`evlf report`).</summary>
public sealed record ReportOptions
{
    /// <summary>Run folders, each with manifest.json and optionally eval.json and images/.</summary>
    public required IReadOnlyList<string> Runs { get; init; }

    /// <summary>The markdown file; figures go to a figures/ folder beside it.</summary>
    public string Out { get; init; } = "docs/RESULTS.md";

    /// <summary>The real dataset's spec; null takes the runs' own (manifest data.spec) when they agree, else fashion-mnist.</summary>
    public string? Data { get; init; }

    /// <summary>Extra pending cells, "label:ipc[:reason]" (see <see cref="PendingRun.Parse"/>).</summary>
    public IReadOnlyList<string> Pending { get; init; } = [];

    /// <summary>Compute density and coverage and draw the figures (reads the real dataset); off gives the tables alone.</summary>
    public bool Metrics { get; init; } = true;

    public FidelityOptions Fidelity { get; init; } = new();

    /// <summary>
    /// The classifier that judges class agreement (<see cref="ClassAgreement"/>): a <see cref="Teacher"/> with these
    /// settings, trained on the real training split with seed <see cref="FidelityOptions.Seed"/> or read from its cache
    /// (the soft-label evaluation's teacher under the same settings); null leaves the agreement column out.
    /// </summary>
    public TeacherOptions? Agreement { get; init; }

    /// <summary>Real reference images per class drawn as grey dots in the PCA scatters.</summary>
    public int ScatterRealPerClass { get; init; } = 200;
}
