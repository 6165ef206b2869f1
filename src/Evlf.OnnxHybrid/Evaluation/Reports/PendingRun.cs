using System.Globalization;

namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>
/// A method × IPC cell of the results that has no run yet, with an optional reason. <c>evlf report</c> lists one
/// for each of <see cref="StandardLabels"/> at each IPC present that no run fills, and one for each
/// "label:ipc:reason" of <see cref="ReportOptions.Pending"/>.
/// </summary>
public sealed record PendingRun(string Label, int Ipc, string? Reason)
{
    /// <summary>The seven rows every report has: the two real-image baselines, plain DiT sampling, and D4M and MGD3 with and without EVLF.</summary>
    public static IReadOnlyList<string> StandardLabels { get; } = ["random", "herding", "dit", "d4m", "d4m+EVLF", "mgd3", "mgd3+EVLF", "minimax", "minimax+EVLF"];

    /// <summary>
    /// Parses "label:ipc" or "label:ipc:reason" (the reason may contain colons). A label that matches a standard
    /// one ignoring case takes its spelling.
    /// </summary>
    public static PendingRun Parse(string spec)
    {
        var parts = (spec ?? "").Split(':', 3);
        if (parts.Length < 2 || parts[0].Trim().Length == 0)
            throw new UserInputException($"Pending entry '{spec}' is not label:ipc[:reason]; expected for example \"d4m+EVLF:10:needs the fine-tuned bundle\".");
        if (!int.TryParse(parts[1].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int ipc) || ipc < 1)
            throw new UserInputException($"Pending entry '{spec}' has IPC '{parts[1]}'; expected a whole number of 1 or more.");
        var label = parts[0].Trim();
        label = StandardLabels.FirstOrDefault(s => s.Equals(label, StringComparison.OrdinalIgnoreCase)) ?? label;
        var reason = parts.Length == 3 && parts[2].Trim().Length > 0 ? parts[2].Trim() : null;
        return new PendingRun(label, ipc, reason);
    }
}
