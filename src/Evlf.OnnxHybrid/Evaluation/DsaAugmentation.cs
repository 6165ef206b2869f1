using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>The operation groups of <see cref="DsaAugmentation"/>; <see cref="Color"/> is brightness, saturation, contrast in turn.</summary>
public enum DsaOp
{
    Color,
    Crop,
    Cutout,
    Flip,
    Scale,
    Rotate,
}

/// <summary>
/// Differentiable Siamese Augmentation as the DC/DSA evaluation protocol applies it (DC/DSA utils.py,
/// <c>DiffAugment</c> with <c>aug_mode 'S'</c> and no seed): for every batch ONE operation group is drawn
/// uniformly from the strategy (by default color, crop, cutout, flip, scale, rotate), and that group is
/// applied with parameters drawn independently for every sample (the shared, "Siamese" draw is only used
/// while distilling, not when training an evaluation classifier). Works on normalised N×C×H×W images.
/// Random numbers come from the caller's generator, so a seed fixes the sequence; they are drawn on the
/// CPU and moved to the images' device.
/// </summary>
public sealed class DsaAugmentation
{
    private readonly IReadOnlyList<DsaOp> ops;

    public DsaAugmentation(DsaParameters? parameters = null)
    {
        Parameters = parameters ?? new DsaParameters();
        ops = Parameters.Ops();
    }

    public DsaParameters Parameters { get; }

    /// <summary>The operation groups one of which is drawn per batch.</summary>
    public IReadOnlyList<DsaOp> Ops => ops;

    /// <summary>Draws one operation group and applies it with per-sample parameters. Returns a new tensor (or <paramref name="x"/> itself for an empty strategy).</summary>
    public Tensor Apply(Tensor x, Generator generator) => ops.Count == 0 ? x : Apply(DrawOp(generator), x, generator);

    /// <summary>The operation group of the next batch, uniform over <see cref="Ops"/>.</summary>
    public DsaOp DrawOp(Generator generator)
    {
        if (ops.Count == 0) throw new InvalidOperationException("The strategy names no operation.");
        using var i = randint(0, ops.Count, [1], dtype: int64, generator: generator);
        return ops[(int)i.item<long>()];
    }

    /// <summary>Applies operation group <paramref name="op"/> with parameters drawn for every sample, in DSA's order of draws.</summary>
    public Tensor Apply(DsaOp op, Tensor x, Generator generator)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        var p = Parameters;
        Tensor U() => rand([n], generator: generator).to(x.device);
        Tensor result;
        switch (op)
        {
            case DsaOp.Color:
                {
                    var ub = U();
                    var y = Brightness(x, ub, p.Brightness);
                    var us = U();
                    y = Saturation(y, us, p.Saturation);
                    var uc = U();
                    result = Contrast(y, uc, p.Contrast);
                    break;
                }
            case DsaOp.Crop:
                {
                    long sx = (long)(h * p.CropPadRatio + 0.5), sy = (long)(w * p.CropPadRatio + 0.5);
                    var tx = randint(-sx, sx + 1, [n], dtype: int64, generator: generator).to(x.device);
                    var ty = randint(-sy, sy + 1, [n], dtype: int64, generator: generator).to(x.device);
                    result = Crop(x, tx, ty);
                    break;
                }
            case DsaOp.Cutout:
                {
                    long ch = (long)(h * p.CutoutRatio + 0.5), cw = (long)(w * p.CutoutRatio + 0.5);
                    var ox = randint(0, h + (1 - ch % 2), [n], dtype: int64, generator: generator).to(x.device);
                    var oy = randint(0, w + (1 - cw % 2), [n], dtype: int64, generator: generator).to(x.device);
                    result = Cutout(x, ox, oy, ch, cw);
                    break;
                }
            case DsaOp.Flip:
                result = Flip(x, U(), p.FlipProbability);
                break;
            case DsaOp.Scale:
                {
                    double r = p.ScaleRatio;
                    var sx = U().mul_(r - 1.0 / r).add_(1.0 / r);
                    var sy = U().mul_(r - 1.0 / r).add_(1.0 / r);
                    result = Scale(x, sx, sy);
                    break;
                }
            case DsaOp.Rotate:
                result = Rotate(x, U().sub_(0.5).mul_(2 * p.RotateDegrees / 180 * Math.PI));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Mirrors sample i left–right where <paramref name="u"/>[i] &lt; <paramref name="probability"/>.</summary>
    public static Tensor Flip(Tensor x, Tensor u, double probability)
    {
        using var mask = u.lt(probability).view(-1, 1, 1, 1);
        using var flipped = x.flip(3);
        return where(mask, flipped, x);
    }

    /// <summary>x + (u − 0.5)·ratio, per sample.</summary>
    public static Tensor Brightness(Tensor x, Tensor u, double ratio)
    {
        using var shift = (u - 0.5).mul_(ratio).view(-1, 1, 1, 1);
        return x + shift;
    }

    /// <summary>(x − m)·(u·ratio) + m with m the mean over channels at each pixel; the identity for one channel.</summary>
    public static Tensor Saturation(Tensor x, Tensor u, double ratio)
    {
        using var scope = NewDisposeScope();
        var m = x.mean([1], keepdim: true);
        var factor = (u * ratio).view(-1, 1, 1, 1);
        return (x - m).mul_(factor).add_(m).MoveToOuterDisposeScope();
    }

    /// <summary>(x − m)·(u + ratio) + m with m the mean of each sample over channels and pixels.</summary>
    public static Tensor Contrast(Tensor x, Tensor u, double ratio)
    {
        using var scope = NewDisposeScope();
        var m = x.mean([1, 2, 3], keepdim: true);
        var factor = (u + ratio).view(-1, 1, 1, 1);
        return (x - m).mul_(factor).add_(m).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Translates sample i so that output (r, c) reads input (r + dx[i], c + dy[i]); positions outside the
    /// image read 0 (DSA pads one zero pixel and clamps indices onto it).
    /// </summary>
    public static Tensor Crop(Tensor x, Tensor dx, Tensor dy)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var padded = F.pad(x, [1, 1, 1, 1]);
        var rows = (arange(h, dtype: int64, device: x.device).view(1, h) + dx.view(n, 1) + 1).clamp_(0, h + 1);
        var cols = (arange(w, dtype: int64, device: x.device).view(1, w) + dy.view(n, 1) + 1).clamp_(0, w + 1);
        var picked = padded.gather(2, rows.view(n, 1, h, 1).expand(n, c, h, w + 2));
        return picked.gather(3, cols.view(n, 1, 1, w).expand(n, c, h, w)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Zeroes, in sample i, rows ox[i] − sizeRows/2 … ox[i] − sizeRows/2 + sizeRows − 1 and the matching
    /// columns around oy[i] (clipped to the image), as DSA's rand_cutout.
    /// </summary>
    public static Tensor Cutout(Tensor x, Tensor ox, Tensor oy, long sizeRows, long sizeCols)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        var rowsLo = (ox - sizeRows / 2).view(n, 1);
        var colsLo = (oy - sizeCols / 2).view(n, 1);
        var r = arange(h, dtype: int64, device: x.device).view(1, h);
        var c = arange(w, dtype: int64, device: x.device).view(1, w);
        var rowIn = r.ge(rowsLo).logical_and_(r.lt(rowsLo + sizeRows)); // (n, h)
        var colIn = c.ge(colsLo).logical_and_(c.lt(colsLo + sizeCols)); // (n, w)
        var cut = rowIn.view(n, 1, h, 1).logical_and(colIn.view(n, 1, 1, w));
        return x.masked_fill(cut, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Resamples sample i through the affine map diag(sx[i], sy[i]) (affine_grid + bilinear grid_sample, zeros outside, align_corners false).</summary>
    public static Tensor Scale(Tensor x, Tensor sx, Tensor sy)
    {
        using var scope = NewDisposeScope();
        var zero = zeros_like(sx);
        var theta = stack([stack([sx, zero, zero], 1), stack([zero, sy, zero], 1)], 1);
        return Warp(x, theta).MoveToOuterDisposeScope();
    }

    /// <summary>Resamples sample i through the rotation [[cos θ, −sin θ], [sin θ, cos θ]] with θ = <paramref name="radians"/>[i].</summary>
    public static Tensor Rotate(Tensor x, Tensor radians)
    {
        using var scope = NewDisposeScope();
        var cos = radians.cos();
        var sin = radians.sin();
        var zero = zeros_like(radians);
        var theta = stack([stack([cos, -sin, zero], 1), stack([sin, cos, zero], 1)], 1);
        return Warp(x, theta).MoveToOuterDisposeScope();
    }

    static Tensor Warp(Tensor x, Tensor theta)
    {
        using var grid = F.affine_grid(theta.to(x.dtype), x.shape, align_corners: false);
        return F.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
    }
}
