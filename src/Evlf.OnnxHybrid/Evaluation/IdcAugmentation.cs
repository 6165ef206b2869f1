using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// IDC's per-image training augmentation on a batch of images in [0, 1] (before normalisation), each sample with
/// its own random parameters, in IDC's order: RandomResizedCrop to the same size (area U(0.5, 1), aspect
/// log-uniform in [3/4, 4/3], torchvision's 10 tries then a centre crop; the window is enlarged bilinearly),
/// horizontal flip, ColorJitter as lerps in a random order per image (brightness towards black, contrast towards
/// the grayscale mean, saturation towards the grayscale image, each α ~ U(−0.4, 0.4)), then AlexNet lighting
/// noise for RGB. On one channel the grayscale image is the image, so saturation is the identity and lighting
/// (defined by RGB eigenvectors) is skipped. Random numbers come from the caller's generator.
/// </summary>
public sealed class IdcAugmentation
{
    public IdcAugmentation(IdcAugmentationParameters? parameters = null) => Parameters = parameters ?? new IdcAugmentationParameters();

    public IdcAugmentationParameters Parameters { get; }

    public Tensor Apply(Tensor x, Generator generator)
    {
        using var scope = NewDisposeScope();
        var y = RandomResizedCrop(x, generator);
        using (var u = rand([x.shape[0]], generator: generator)) y = DsaAugmentation.Flip(y, u.to(x.device), Parameters.FlipProbability);
        y = ColorJitter(y, generator);
        if (x.shape[1] == 3 && Parameters.LightingStd > 0) y = Lighting(y, randn([x.shape[0], 3], generator: generator).mul_(Parameters.LightingStd).to(x.device));
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Per sample, a window by torchvision's RandomResizedCrop.get_params, resized back to the full size.</summary>
    public Tensor RandomResizedCrop(Tensor x, Generator generator) => ResizedCrop(x, DrawCropBoxes(x.shape[0], x.shape[2], x.shape[3], generator));

    /// <summary>
    /// torchvision's RandomResizedCrop.get_params for <paramref name="n"/> images of <paramref name="h"/>×<paramref name="w"/>:
    /// up to 10 tries of area U(scale)·h·w and aspect exp(U(log 3/4, log 4/3)), rounded, that fit; else the centre fallback.
    /// </summary>
    public (long Top, long Left, long Height, long Width)[] DrawCropBoxes(long n, long h, long w, Generator generator)
    {
        using var draws = rand([n, 10, 4], dtype: float64, generator: generator);
        var u = draws.data<double>().ToArray();
        var boxes = new (long Top, long Left, long Height, long Width)[n];
        double logLo = Math.Log(3.0 / 4), logHi = Math.Log(4.0 / 3), area = h * w;
        for (long s = 0; s < n; s++)
        {
            boxes[s] = CenterFallback(h, w);
            for (int t = 0; t < 10; t++)
            {
                int o = (int)((s * 10 + t) * 4);
                double target = area * (Parameters.CropScaleMin + u[o] * (Parameters.CropScaleMax - Parameters.CropScaleMin));
                double aspect = Math.Exp(logLo + u[o + 1] * (logHi - logLo));
                long cw = (long)Math.Round(Math.Sqrt(target * aspect)), ch = (long)Math.Round(Math.Sqrt(target / aspect));
                if (cw <= 0 || ch <= 0 || cw > w || ch > h) continue;
                long top = (long)(u[o + 2] * (h - ch + 1)), left = (long)(u[o + 3] * (w - cw + 1));
                boxes[s] = (top, left, ch, cw);
                break;
            }
        }
        return boxes;
    }

    /// <summary>
    /// Crops window b of sample i and resizes it to the full image size with bilinear interpolation (half-pixel
    /// centres, edges clamped to the window), which is what PIL's bilinear resize does when it enlarges.
    /// </summary>
    public static Tensor ResizedCrop(Tensor x, IReadOnlyList<(long Top, long Left, long Height, long Width)> boxes)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        var parts = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var b = boxes[i];
            var window = x.narrow(0, i, 1).narrow(2, b.Top, b.Height).narrow(3, b.Left, b.Width);
            parts[i] = b.Height == h && b.Width == w
                ? window
                : F.interpolate(window, [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision's fallback: the largest centre crop with aspect in [3/4, 4/3].</summary>
    static (long, long, long, long) CenterFallback(long h, long w)
    {
        double ratio = (double)w / h;
        long cw = w, ch = h;
        if (ratio < 3.0 / 4) ch = (long)Math.Round(w / (3.0 / 4));
        else if (ratio > 4.0 / 3) cw = (long)Math.Round(h * (4.0 / 3));
        return ((h - ch) / 2, (w - cw) / 2, ch, cw);
    }

    /// <summary>Brightness, contrast and saturation lerps in a random order per sample.</summary>
    public Tensor ColorJitter(Tensor x, Generator generator)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var p = Parameters;
        // Per sample: an order (argsort of three uniforms is a uniform permutation) and three α.
        var order = rand([n, 3], generator: generator).argsort(1).to(x.device);
        var alphas = (rand([n, 3], generator: generator) * 2 - 1).mul_(tensor(new[] { (float)p.Brightness, (float)p.Contrast, (float)p.Saturation })).to(x.device);
        var y = x;
        for (int position = 0; position < 3; position++)
        {
            var op = order.select(1, position);
            var alpha = alphas.gather(1, op.unsqueeze(1)).view(n, 1, 1, 1);
            var gray = Grayscale(y);
            var brightness = zeros_like(y);
            var contrast = gray.mean([1, 2, 3], keepdim: true).expand_as(y);
            var saturation = gray.expand_as(y);
            var target = where(op.eq(0).view(n, 1, 1, 1), brightness, where(op.eq(1).view(n, 1, 1, 1), contrast, saturation));
            y = y + alpha * (target - y);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Luma 0.299 R + 0.587 G + 0.114 B as one channel; a one-channel image is its own grayscale.</summary>
    public static Tensor Grayscale(Tensor x)
    {
        if (x.shape[1] == 1) return x.alias();
        using var weights = tensor(new[] { 0.299f, 0.587f, 0.114f }, [1, 3, 1, 1]).to(x.device);
        return (x * weights).sum(1, keepdim: true);
    }

    /// <summary>Adds Σ_j eigvec[c, j]·α[i, j]·eigval[j] to channel c of sample i (AlexNet lighting).</summary>
    public static Tensor Lighting(Tensor x, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        var vectors = new float[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) vectors[i * 3 + j] = IdcAugmentationParameters.EigenVectors[i, j];
        var eigvec = tensor(vectors, [3, 3]).to(x.device);
        var eigval = tensor(IdcAugmentationParameters.EigenValues.ToArray()).to(x.device);
        var rgb = (alpha * eigval).matmul(eigvec.t()); // (n, 3): rgb[i, c] = Σ_j α[i, j]·eigval[j]·eigvec[c, j]
        return (x + rgb.view(-1, 3, 1, 1)).MoveToOuterDisposeScope();
    }
}
