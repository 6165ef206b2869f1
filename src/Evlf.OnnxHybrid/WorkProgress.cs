namespace Evlf.OnnxHybrid;

/// <summary>
/// Progress of long work, reported through <see cref="IProgress{T}"/>: task <paramref name="Task"/> has done
/// <paramref name="Done"/> of <paramref name="Total"/> units (counting up), with an optional status (e.g. the current loss).
/// </summary>
public readonly record struct WorkProgress(string Task, double Done, double Total, string? Status = null);
