using Evlf.OnnxHybrid.Evaluation.Metrics;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>One run in a report: what its folder says, its density and coverage, and its figures.</summary>
/// <param name="Run">The run folder's manifest and evaluation.</param>
/// <param name="RunPath">The folder relative to the markdown file ('/' separators).</param>
/// <param name="Fidelity">Null when metrics were skipped or the run has no images.</param>
/// <param name="SheetPath">Contact sheet relative to the markdown file, or null.</param>
/// <param name="ScatterPath">PCA scatter relative to the markdown file, or null.</param>
/// <param name="Agreement">Class agreement of the images with the report's judge; null when not measured.</param>
public sealed record ReportEntry(RunRecord Run, string RunPath, SetFidelity? Fidelity, string? SheetPath, string? ScatterPath, ClassAgreement? Agreement = null);

/// <summary>Everything <see cref="ResultsMarkdown"/> writes.</summary>
public sealed record ReportDocument
{
    public required IReadOnlyList<ReportEntry> Entries { get; init; }

    /// <summary>Cells without a run: the standard methods at the IPCs present, and those the user listed.</summary>
    public required IReadOnlyList<PendingRun> Pending { get; init; }

    /// <summary>The real dataset's spec.</summary>
    public required string Data { get; init; }

    /// <summary>Class names in label order (figure legends); empty when the dataset was not read.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>The feature space of the metrics in words; null when metrics were skipped.</summary>
    public string? FeatureSpace { get; init; }

    public FidelityOptions? Fidelity { get; init; }

    /// <summary>The class-agreement judge in words (network, training, test accuracy); null when agreement was not measured.</summary>
    public string? AgreementJudge { get; init; }

    /// <summary>Real points per class in the scatter figures.</summary>
    public int ScatterRealPerClass { get; init; }

    /// <summary>Whether to add the published Fashion-MNIST rows.</summary>
    public bool ShowPublished { get; init; }
}
