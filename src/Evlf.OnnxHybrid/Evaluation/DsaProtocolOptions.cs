namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// The DC/DSA evaluation protocol's settings (DESIGN §7; DC/DSA utils.py <c>evaluate_synset</c>), defaults as
/// published: SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 256, 1000 epochs, learning rate ×0.1 at
/// half, DSA augmentation.
/// </summary>
public sealed record DsaProtocolOptions
{
    public int Epochs { get; init; } = 1000;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Factor applied to the learning rate from epoch ⌊Epochs/2⌋ on.</summary>
    public double DecayFactor { get; init; } = 0.1;

    /// <summary>The augmentation; a strategy of "none" turns it off.</summary>
    public DsaParameters Augmentation { get; init; } = new();

    /// <summary>Test-pass batch size (no effect on results).</summary>
    public int TestBatchSize { get; init; } = ClassifierAccuracy.DefaultBatchSize;
}
