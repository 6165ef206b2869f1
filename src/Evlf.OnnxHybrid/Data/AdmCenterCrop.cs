namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// ADM's <c>center_crop_arr</c> (guided-diffusion, used by DiT, MGD3 and EVLF; docs/PIPELINES.md §2):
/// while the shorter side is at least 2·S, halve both sides (integer division) with a BOX filter; then resize
/// with BICUBIC so the shorter side is S (each side × S/short, rounded half-to-even as Python's <c>round</c>);
/// then cut the centred S×S window, its offset rounded down.
/// </summary>
public static class AdmCenterCrop
{
    public static ByteImage CenterCropArr(ByteImage image, int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), $"Crop size must be positive, got {size}.");
        while (Math.Min(image.Width, image.Height) >= 2 * size)
            image = Resampler.Resize(image, image.Width / 2, image.Height / 2, ResampleFilter.Box);

        double scale = (double)size / Math.Min(image.Width, image.Height);
        int width = (int)Math.Round(image.Width * scale, MidpointRounding.ToEven);
        int height = (int)Math.Round(image.Height * scale, MidpointRounding.ToEven);

        // Only the centred window of the bicubic resize is computed; it equals resizing fully, then cropping.
        int top = (height - size) / 2, left = (width - size) / 2;
        return Resampler.ResizeWindow(image, width, height, ResampleFilter.Bicubic, top, left, size, size);
    }
}
