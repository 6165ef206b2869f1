namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Something a reader passed over while walking a dataset folder (a .gif, a hidden or linked folder, a FIFO), and
/// why. Readers collect these on <see cref="ImageDataset.Skipped"/> so that nothing vanishes silently.
/// </summary>
/// <param name="Path">The entry, relative to the dataset folder.</param>
/// <param name="Reason">Why it was skipped, e.g. "not an image file" or "folder link, not followed".</param>
public sealed record SkippedEntry(string Path, string Reason)
{
    /// <summary>How many entries <see cref="Summary"/> names before it only counts.</summary>
    public const int Named = 5;

    /// <summary>
    /// One line for a warning: how many entries of <paramref name="dataset"/> were skipped, the first few with their
    /// reasons, and how many more.
    /// </summary>
    public static string Summary(string dataset, IReadOnlyList<SkippedEntry> skipped)
    {
        var named = string.Join(", ", skipped.Take(Named).Select(s => $"'{s.Path}' ({s.Reason})"));
        var more = skipped.Count > Named ? $" and {skipped.Count - Named} more" : "";
        return $"{dataset}: skipped {skipped.Count} {(skipped.Count == 1 ? "entry" : "entries")} that {(skipped.Count == 1 ? "is not a usable image" : "are not usable images")}: {named}{more}.";
    }
}
