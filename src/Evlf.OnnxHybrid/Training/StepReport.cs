namespace Evlf.OnnxHybrid.Training;

/// <summary>What a training loop reports after each step.</summary>
public readonly record struct StepReport(string Stage, long Step, long TotalSteps, double Loss);
