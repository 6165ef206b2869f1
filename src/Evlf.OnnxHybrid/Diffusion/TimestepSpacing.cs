using System.Globalization;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>How K inference timesteps are chosen among T training timesteps.</summary>
public enum TimestepSpacingKind
{
    /// <summary>IDDPM <c>space_timesteps(T, "K")</c>: round(i·(T−1)/(K−1)) → {0, 20, 41, …, 979, 999} for 50 of 1000 (DiT, MGD3).</summary>
    Iddpm,

    /// <summary>diffusers "leading": i·⌊T/K⌋ + steps_offset → {1, 21, …, 981} for 50 of 1000 with offset 1 (SD 1.x).</summary>
    Leading,

    /// <summary>diffusers "trailing": round(T − i·T/K) − 1 → {19, 39, …, 999} for 50 of 1000.</summary>
    Trailing,

    /// <summary>diffusers "linspace": round(linspace(0, T−1, K)) (half to even).</summary>
    Linspace,
}

/// <summary>
/// Selection of the timesteps a shortened sampling process keeps. Every method returns the kept
/// timesteps in ascending order; samplers walk them from last to first.
/// </summary>
public static class TimestepSpacing
{
    /// <summary>
    /// IDDPM's <c>space_timesteps</c>: <paramref name="sectionCounts"/> is either "ddimK" (the stride i
    /// for which range(0, T, i) has exactly K entries) or comma-separated counts, one per equal portion
    /// of the T steps (the first T mod #sections portions one step longer). A portion of size S that
    /// keeps C steps takes round(j·(S−1)/(C−1)) for j = 0 … C−1, the position accumulated by repeated
    /// addition and rounded half to even, as Python does; C = 1 keeps the portion's first step.
    /// </summary>
    public static int[] SpaceTimesteps(int trainTimesteps, string sectionCounts)
    {
        ArgumentNullException.ThrowIfNull(sectionCounts);
        if (trainTimesteps < 1) throw new ArgumentOutOfRangeException(nameof(trainTimesteps), $"The process needs at least one timestep; got {trainTimesteps}.");
        string spec = sectionCounts.Trim();
        if (spec.StartsWith("ddim", StringComparison.Ordinal))
        {
            int desired = ParseCount(spec["ddim".Length..], sectionCounts);
            for (int stride = 1; stride < trainTimesteps; stride++)
                if ((trainTimesteps + stride - 1) / stride == desired)
                    return Enumerable.Range(0, desired).Select(j => j * stride).ToArray();
            throw new ArgumentException($"Timestep spacing '{sectionCounts}': no integer stride gives exactly {desired} of {trainTimesteps} steps.", nameof(sectionCounts));
        }

        int[] counts = spec.Split(',').Select(c => ParseCount(c, sectionCounts)).ToArray();
        int sizePer = trainTimesteps / counts.Length, extra = trainTimesteps % counts.Length;
        var kept = new SortedSet<int>();
        int start = 0;
        for (int s = 0; s < counts.Length; s++)
        {
            int size = sizePer + (s < extra ? 1 : 0);
            if (size < counts[s])
                throw new ArgumentException($"Timestep spacing '{sectionCounts}': section {s} has {size} steps and cannot keep {counts[s]}.", nameof(sectionCounts));
            double stride = counts[s] <= 1 ? 1.0 : (size - 1) / (double)(counts[s] - 1);
            double position = 0.0;
            for (int j = 0; j < counts[s]; j++)
            {
                kept.Add(start + (int)Math.Round(position, MidpointRounding.ToEven));
                position += stride;
            }
            start += size;
        }
        return kept.ToArray();
    }

    /// <summary>
    /// diffusers' <c>set_timesteps(K)</c> for the given spacing, ascending. <paramref name="stepsOffset"/>
    /// applies to <see cref="TimestepSpacingKind.Leading"/> only (SD 1.x uses 1).
    /// </summary>
    public static int[] ForInference(int trainTimesteps, int steps, TimestepSpacingKind spacing, int stepsOffset = 0)
    {
        if (steps < 1 || steps > trainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), $"Inference steps must lie in 1..{trainTimesteps}; got {steps}.");
        int[] ts = spacing switch
        {
            TimestepSpacingKind.Iddpm => SpaceTimesteps(trainTimesteps, steps.ToString(CultureInfo.InvariantCulture)),
            TimestepSpacingKind.Leading => Enumerable.Range(0, steps).Select(i => i * (trainTimesteps / steps) + stepsOffset).ToArray(),
            TimestepSpacingKind.Trailing => Enumerable.Range(0, steps)
                .Select(i => (int)Math.Round(trainTimesteps - i * (trainTimesteps / (double)steps), MidpointRounding.ToEven) - 1)
                .Reverse().ToArray(),
            TimestepSpacingKind.Linspace => NoiseSchedule.Linspace(0, trainTimesteps - 1, steps)
                .Select(v => (int)Math.Round(v, MidpointRounding.ToEven)).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(spacing), $"Unknown timestep spacing {spacing}."),
        };
        for (int i = 0; i < ts.Length; i++)
            if (ts[i] < 0 || ts[i] >= trainTimesteps || (i > 0 && ts[i] <= ts[i - 1]))
                throw new ArgumentException($"{spacing} spacing of {steps} steps with offset {stepsOffset} gives timestep {ts[i]} at position {i}, which is not a distinct timestep in 0..{trainTimesteps - 1}.");
        return ts;
    }

    static int ParseCount(string text, string spec)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1)
            throw new ArgumentException($"Timestep spacing '{spec}' is not understood: expected 'K', 'K1,K2,…' or 'ddimK' with positive integers.", nameof(spec));
        return k;
    }
}
