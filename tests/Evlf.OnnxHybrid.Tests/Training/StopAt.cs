using Evlf.OnnxHybrid.Training;

namespace Evlf.OnnxHybrid.Tests.Training;

/// <summary>Cancels a training loop once it reports a given step (simulates a killed run).</summary>
public sealed class StopAt(long step, CancellationTokenSource cts) : IProgress<StepReport>
{
    public void Report(StepReport value) { if (value.Step == step) cts.Cancel(); }
}
