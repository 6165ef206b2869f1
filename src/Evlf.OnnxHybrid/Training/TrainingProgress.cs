namespace Evlf.OnnxHybrid.Training;

/// <summary>Where a training run is: <paramref name="Epoch"/> epochs of <paramref name="Epochs"/> done, with the last epoch's mean loss.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, double Loss, double LearningRate);
