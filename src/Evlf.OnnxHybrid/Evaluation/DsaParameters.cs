namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// Differentiable Siamese Augmentation's constants (Zhao and Bilen 2021; DC/DSA utils.py ParamDiffAug), which
/// the DC/DSA evaluation protocol uses unchanged.
/// </summary>
/// <param name="Strategy">Operation groups joined by '_', one of which is drawn per batch (DSA's aug_mode 'S').</param>
/// <param name="FlipProbability">Chance that a sample is mirrored left–right.</param>
/// <param name="ScaleRatio">Per-axis scale factors are drawn from U(1/ratio, ratio).</param>
/// <param name="RotateDegrees">Angles are drawn from U(−deg, deg).</param>
/// <param name="CropPadRatio">Translation up to round(ratio·size) pixels per axis; vacated pixels become 0.</param>
/// <param name="CutoutRatio">A square of round(ratio·size) pixels per side is zeroed.</param>
/// <param name="Brightness">Adds (u − 0.5)·brightness.</param>
/// <param name="Saturation">Scales the deviation from the per-pixel channel mean by u·saturation (identity on one channel).</param>
/// <param name="Contrast">Scales the deviation from the per-sample mean by u + contrast.</param>
public sealed record DsaParameters(
    string Strategy = DsaParameters.DefaultStrategy,
    double FlipProbability = 0.5,
    double ScaleRatio = 1.2,
    double RotateDegrees = 15.0,
    double CropPadRatio = 0.125,
    double CutoutRatio = 0.5,
    double Brightness = 1.0,
    double Saturation = 2.0,
    double Contrast = 0.5)
{
    /// <summary>DSA's evaluation strategy.</summary>
    public const string DefaultStrategy = "color_crop_cutout_flip_scale_rotate";

    /// <summary>The operation groups named by <see cref="Strategy"/>, in order; throws for an unknown name.</summary>
    public IReadOnlyList<DsaOp> Ops()
    {
        if (Strategy is "" or "none" or "None") return [];
        return Strategy.Split('_').Select(s => s switch
        {
            "color" => DsaOp.Color,
            "crop" => DsaOp.Crop,
            "cutout" => DsaOp.Cutout,
            "flip" => DsaOp.Flip,
            "scale" => DsaOp.Scale,
            "rotate" => DsaOp.Rotate,
            _ => throw new UserInputException($"DSA strategy '{Strategy}' names unknown operation '{s}'; expected color, crop, cutout, flip, scale and rotate joined by '_'."),
        }).ToArray();
    }
}
