namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// The IDC evaluation protocol's settings (docs/PIPELINES.md §5; IDC train.py, data.py, misc/utils.py),
/// defaults as published: SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 64, MultiStepLR at ⌊2E/3⌋ and
/// ⌊5E/6⌋ with γ 0.2, epochs from <see cref="IdcProtocol.EpochsFor"/>, CutMix on every batch.
/// </summary>
public sealed record IdcProtocolOptions
{
    /// <summary>Training epochs; null takes <see cref="IdcProtocol.EpochsFor"/> of the training set.</summary>
    public int? Epochs { get; init; }

    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public double Gamma { get; init; } = 0.2;

    /// <summary>Chance that a batch is CutMixed (λ ~ Beta(1, 1) = U(0, 1)); docs/PIPELINES.md §5: every batch.</summary>
    public double CutMixProbability { get; init; } = 1.0;

    public IdcAugmentationParameters Augmentation { get; init; } = new();

    public int TestBatchSize { get; init; } = ClassifierAccuracy.DefaultBatchSize;
}

/// <summary>IDC's training-image augmentation chain (data.py transform_imagenet with augment and RRC), applied per image.</summary>
/// <param name="CropScaleMin">RandomResizedCrop's smallest area fraction (scale 0.5–1).</param>
/// <param name="CropScaleMax">RandomResizedCrop's largest area fraction.</param>
/// <param name="FlipProbability">RandomHorizontalFlip.</param>
/// <param name="Brightness">ColorJitter: lerp towards black by α ~ U(−b, b).</param>
/// <param name="Contrast">ColorJitter: lerp towards the grayscale mean by α ~ U(−c, c).</param>
/// <param name="Saturation">ColorJitter: lerp towards the grayscale image by α ~ U(−s, s).</param>
/// <param name="LightingStd">AlexNet PCA lighting: α ~ N(0, std²) per eigenvector (RGB images only).</param>
public sealed record IdcAugmentationParameters(
    double CropScaleMin = 0.5,
    double CropScaleMax = 1.0,
    double FlipProbability = 0.5,
    double Brightness = 0.4,
    double Contrast = 0.4,
    double Saturation = 0.4,
    double LightingStd = 0.1)
{
    /// <summary>Lighting eigenvalues (ImageNet RGB PCA).</summary>
    public static IReadOnlyList<float> EigenValues { get; } = [0.2175f, 0.0188f, 0.0045f];

    /// <summary>Lighting eigenvectors, row i = channel i.</summary>
    public static float[,] EigenVectors { get; } =
    {
        { -0.5675f, 0.7192f, 0.4009f },
        { -0.5808f, -0.0045f, -0.8140f },
        { -0.5836f, -0.6948f, 0.4203f },
    };
}
