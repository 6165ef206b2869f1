using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>Classifier-free guidance settings.</summary>
/// <param name="Scale">s in ε_u + s·(ε_c − ε_u); 4.0 is DiT's and MGD3's default (docs/PIPELINES.md §1, §3).</param>
/// <param name="GuidanceChannels">
/// How many leading output channels are guided; the others keep the conditional output's values.
/// null guides every channel (standard CFG, e.g. SD's ε); 3 is DiT's <c>forward_with_cfg</c>, which guides
/// ε channels 0–2 only and leaves ε channel 3 and the variance channels unguided.
/// </param>
public sealed record GuidanceOptions(double Scale = 4.0, int? GuidanceChannels = null)
{
    /// <summary>DiT / MGD3 / EVLF: s = 4, guidance on channels 0–2 of the 8-channel output.</summary>
    public static GuidanceOptions DiT { get; } = new(4.0, 3);

    /// <summary>D4M's Stable Diffusion img2img: s = 8 on all channels (docs/PIPELINES.md §6).</summary>
    public static GuidanceOptions D4M { get; } = new(8.0);
}

/// <summary>
/// Classifier-free guidance: combines the outputs of a conditional and an unconditional evaluation
/// of the same x into one guided output.
/// </summary>
public static class ClassifierFreeGuidance
{
    /// <summary>
    /// ε_u + s·(ε_c − ε_u) on the guided channels; the remaining channels are the conditional output's.
    /// Both inputs are (N, K, …); the result is a new (N, K, …) tensor.
    /// </summary>
    public static Tensor Combine(Tensor cond, Tensor uncond, GuidanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!cond.shape.SequenceEqual(uncond.shape))
            throw new ArgumentException($"Conditional output [{string.Join(",", cond.shape)}] and unconditional output [{string.Join(",", uncond.shape)}] must have the same shape.", nameof(uncond));
        long channels = cond.dim() < 2 ? 0 : cond.shape[1];
        long guided = options.GuidanceChannels ?? channels;
        if (guided < 0 || guided > channels)
            throw new ArgumentOutOfRangeException(nameof(options), $"GuidanceChannels {options.GuidanceChannels} is outside 0..{channels} for a {channels}-channel model output.");
        using var scope = NewDisposeScope();
        if (guided == channels)
            return uncond.add(cond.sub(uncond).mul_(options.Scale)).MoveToOuterDisposeScope();
        var result = cond.clone();
        using (var c = cond.narrow(1, 0, guided))
        using (var u = uncond.narrow(1, 0, guided))
        using (var r = result.narrow(1, 0, guided))
            r.copy_(u.add(c.sub(u).mul_(options.Scale)));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The guided output of a batch laid out [conditional; unconditional] (2N, K, …) → (N, K, …).</summary>
    public static Tensor CombineHalves(Tensor output, GuidanceOptions options)
    {
        if (output.dim() < 1 || output.shape[0] % 2 != 0)
            throw new ArgumentException($"A guided batch must hold an even number of rows [conditional; unconditional]; got shape [{string.Join(",", output.shape)}].", nameof(output));
        long n = output.shape[0] / 2;
        using var cond = output.narrow(0, 0, n);
        using var uncond = output.narrow(0, n, n);
        return Combine(cond, uncond, options);
    }
}
