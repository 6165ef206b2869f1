namespace Evlf.OnnxHybrid.Data;

/// <summary>Reconstruction filters for <see cref="Resampler"/>, with PIL's definitions and names.</summary>
public enum ResampleFilter
{
    /// <summary>Box (support ½): each output pixel averages the input pixels its footprint covers. Halving averages 2×2 blocks.</summary>
    Box,

    /// <summary>Triangle (support 1), PIL's BILINEAR; torchvision's default for <c>Resize</c>.</summary>
    Bilinear,

    /// <summary>Keys cubic convolution with a = −0.5 (support 2), PIL's BICUBIC.</summary>
    Bicubic,
}
