namespace Evlf.OnnxHybrid;

/// <summary>
/// Progress of long work, reported through <see cref="IProgress{T}"/>: task <paramref name="Task"/> has done
/// <paramref name="Done"/> of <paramref name="Total"/> units (counting up), with an optional status (e.g. the current loss).
/// </summary>
public readonly record struct WorkProgress(string Task, double Done, double Total, string? Status = null);

/// <summary>Relays of <see cref="WorkProgress"/> between one piece of work and the caller's progress.</summary>
internal static class WorkProgressRelay
{
    /// <summary>Reports to <paramref name="progress"/> under the task name <paramref name="task"/>; null when it is null.</summary>
    public static IProgress<WorkProgress>? Renamed(this IProgress<WorkProgress>? progress, string task) =>
        progress is null ? null : new InlineProgress<WorkProgress>(p => progress.Report(p with { Task = task }));
}
