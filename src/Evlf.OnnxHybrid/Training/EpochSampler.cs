using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// Mini-batches as a pure function of the step: epoch e is a permutation seeded by (seed, e), step s takes
/// its slice. A resumed run therefore sees exactly the batches an uninterrupted one would.
/// </summary>
public sealed class EpochSampler
{
    readonly long count;
    readonly int batch;
    readonly long seed;
    long cachedEpoch = -1;
    long[] permutation = Array.Empty<long>();

    public EpochSampler(long count, int batchSize, long seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "An epoch needs at least one sample.");
        this.count = count;
        batch = (int)Math.Min(batchSize, count);
        this.seed = seed;
    }

    /// <summary>Full batches per epoch (the ragged tail of each permutation is dropped).</summary>
    public long StepsPerEpoch => count / batch;

    public Tensor Indices(long step)
    {
        long epoch = step / StepsPerEpoch, offset = step % StepsPerEpoch * batch;
        if (epoch != cachedEpoch)
        {
            using var perm = randperm(count, generator: new Generator(Seeds.Derive(seed, SeedStream.EpochOrder, epoch)));
            permutation = perm.data<long>().ToArray();
            cachedEpoch = epoch;
        }
        return tensor(permutation.AsSpan((int)offset, batch).ToArray());
    }

    /// <summary>A generator for the random draws of one step (noise, timesteps, dropout of conditions).</summary>
    public Generator StepGenerator(long step, int stream = 0) => new(Seeds.Derive(seed, SeedStream.StepNoise, step * 16 + stream));
}
