namespace Evlf.OnnxHybrid.Tests.Training;

/// <summary>Cancels a training loop once it reports a given step (simulates a killed run).</summary>
public sealed class StopAt(long step, CancellationTokenSource cts) : IProgress<WorkProgress>
{
    public void Report(WorkProgress value) { if (value.Done == step) cts.Cancel(); }
}
