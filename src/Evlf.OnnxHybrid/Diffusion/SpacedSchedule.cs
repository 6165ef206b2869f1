namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>
/// A shortened process over some kept timesteps t_0 &lt; t_1 &lt; … &lt; t_{K−1} of a base schedule, as
/// IDDPM's SpacedDiffusion builds it: β_i = 1 − ᾱ(t_i)/ᾱ(t_{i−1}) (ᾱ(t_{−1}) = 1), so the new process
/// has ᾱ_i = ᾱ(t_i) and every posterior table of a K-step process. Samplers walk respaced indices
/// i = K−1 … 0 and call the model with the original timestep <see cref="TimestepMap"/>[i].
/// </summary>
public sealed class SpacedSchedule
{
    readonly int[] timestepMap;

    SpacedSchedule(NoiseSchedule baseSchedule, int[] kept)
    {
        Base = baseSchedule;
        timestepMap = kept;
        TimestepMap = Array.AsReadOnly(kept);
        var betas = new double[kept.Length];
        double last = 1.0;
        for (int i = 0; i < kept.Length; i++)
        {
            double acp = baseSchedule.AlphasCumprod[kept[i]];
            betas[i] = 1.0 - acp / last;
            last = acp;
        }
        Schedule = NoiseSchedule.FromBetas(betas);
    }

    /// <summary>The training process the model was trained on.</summary>
    public NoiseSchedule Base { get; }

    /// <summary>The K-step process, indexed by respaced index.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>Respaced index → the base timestep the model is called with (ascending).</summary>
    public IReadOnlyList<int> TimestepMap { get; }

    /// <summary>K, the number of sampling steps.</summary>
    public int Count => timestepMap.Length;

    /// <summary>The process over exactly <paramref name="keptTimesteps"/> (any order, no repeats).</summary>
    public static SpacedSchedule Respace(NoiseSchedule baseSchedule, IEnumerable<int> keptTimesteps)
    {
        ArgumentNullException.ThrowIfNull(baseSchedule);
        int[] kept = keptTimesteps.Order().ToArray();
        if (kept.Length == 0) throw new ArgumentException("A spaced schedule needs at least one kept timestep.", nameof(keptTimesteps));
        for (int i = 0; i < kept.Length; i++)
            if (kept[i] < 0 || kept[i] >= baseSchedule.Length || (i > 0 && kept[i] == kept[i - 1]))
                throw new ArgumentException($"Kept timestep {kept[i]} is repeated or outside 0..{baseSchedule.Length - 1}.", nameof(keptTimesteps));
        return new SpacedSchedule(baseSchedule, kept);
    }

    /// <summary>IDDPM respacing, e.g. <c>FromSections(base, "50")</c> as DiT samples (see <see cref="TimestepSpacing.SpaceTimesteps"/>).</summary>
    public static SpacedSchedule FromSections(NoiseSchedule baseSchedule, string sectionCounts) =>
        Respace(baseSchedule, TimestepSpacing.SpaceTimesteps(baseSchedule.Length, sectionCounts));

    /// <summary>
    /// The equivalent of a diffusers scheduler's <c>set_timesteps(K)</c>. Steps go between consecutive
    /// kept timesteps, which for leading and trailing spacing is exactly diffusers' t → t − ⌊T/K⌋.
    /// </summary>
    public static SpacedSchedule ForInference(NoiseSchedule baseSchedule, int steps, TimestepSpacingKind spacing, int stepsOffset = 0) =>
        Respace(baseSchedule, TimestepSpacing.ForInference(baseSchedule.Length, steps, spacing, stepsOffset));

    /// <summary>The model timestep at respaced index <paramref name="index"/>.</summary>
    public int ModelTimestep(int index)
    {
        if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), $"Respaced index {index} is outside 0..{Count - 1}.");
        return timestepMap[index];
    }
}
