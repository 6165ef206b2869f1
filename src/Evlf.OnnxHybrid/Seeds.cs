namespace Evlf.OnnxHybrid;

/// <summary>
/// Every random stream evlf derives from a user's seed, in one table. A stream's seed is a 64-bit mix of (user seed,
/// stream, index) — SplitMix64's finaliser (Steele, Lea and Flood 2014), a bijection of 64-bit words, applied to each part
/// in turn — so distinct user seeds never give the same stream (the old rules such as seed·1000 + class wrapped around: seed
/// 0 and 536 870 912 drew the same images), and no stream of one seed is another stream of a neighbouring seed (seed + 11
/// of seed s was seed + 13 of s − 2).
/// </summary>
public enum SeedStream : ulong
{
    /// <summary>distill: the coin that flips each training image before its latent is clustered (index: none).</summary>
    ModeFlips = 1,
    /// <summary>distill, d4m without EVLF: the ε of the VAE posterior samples it clusters.</summary>
    PosteriorNoise = 2,
    /// <summary>distill and sample: the initial noise and sampler draws of class c (index: c), independent of the other classes.</summary>
    ClassSampling = 3,
    /// <summary>Fusion training: the seeded subset of training images it draws its pool from.</summary>
    FusionPool = 4,
    /// <summary>Fusion training: the dropout masks of micro-batch m (index: m).</summary>
    FusionDropout = 5,
    /// <summary>Fusion training: the projector's initial weights (the fusion module's come from the user seed itself).</summary>
    ProjectorInit = 6,
    /// <summary>Fusion training and pretraining: the order of epoch e (index: e).</summary>
    EpochOrder = 7,
    /// <summary>Fusion training and pretraining: the noise, timesteps and dropout of step s (index: s · 16 + sub-stream).</summary>
    StepNoise = 8,
    /// <summary>random: the images of class c (index: c).</summary>
    RandomSelection = 9,
    /// <summary>herding: the subset the embedding network trains on.</summary>
    HerdingSubset = 10,
    /// <summary>herding: the embedding network's initial weights.</summary>
    HerdingInit = 11,
    /// <summary>herding: the embedding network's batches and augmentation.</summary>
    HerdingTraining = 12,
    /// <summary>pretrain: the VAE decoder's initial weights (the encoder's come from the user seed itself).</summary>
    VaeDecoderInit = 13,
    /// <summary>pretrain: the test images the VAE's PSNR is measured on.</summary>
    VaeCheckImages = 14,
    /// <summary>pretrain: the judging classifier of the class-fidelity check.</summary>
    FidelityJudge = 15,
    /// <summary>report: the real images each class is represented by in the metrics.</summary>
    ReportRealImages = 16,
    /// <summary>The train check (<see cref="Onnx.TrainCheck"/>): the noise target, and the draws reseeded before each loss measurement (index 0, 1).</summary>
    TrainCheck = 17,
    /// <summary>Soft-label evaluation (<see cref="Evaluation.Teacher"/>): the teacher's initial weights.</summary>
    TeacherInit = 18,
    /// <summary>Soft-label evaluation (<see cref="Evaluation.Teacher"/>): the teacher's batches and augmentation.</summary>
    TeacherTraining = 19,
}

/// <summary>Derives the seed of a <see cref="SeedStream"/> from a user's seed.</summary>
public static class Seeds
{
    /// <summary>The 64-bit seed of <paramref name="stream"/> number <paramref name="index"/> under user seed <paramref name="seed"/>.</summary>
    public static ulong Derive(long seed, SeedStream stream, long index = 0) =>
        Mix(Mix(Mix((ulong)seed) ^ (ulong)stream) ^ (ulong)index);

    /// <summary><see cref="Derive"/> as a non-negative long (for TorchSharp's manual_seed).</summary>
    public static long DeriveLong(long seed, SeedStream stream, long index = 0) => (long)(Derive(seed, stream, index) >> 1);

    /// <summary>A <see cref="System.Random"/> of the stream, seeded with all 64 bits (<see cref="SplitMixRandom"/>).</summary>
    public static Random Random(long seed, SeedStream stream, long index = 0) => new SplitMixRandom(Derive(seed, stream, index));

    /// <summary>SplitMix64's output function: the golden-ratio increment, then <see cref="Finalise"/>.</summary>
    public static ulong Mix(ulong z) => Finalise(z + Golden);

    /// <summary>SplitMix64's finaliser: a bijection of 64-bit words with good avalanche.</summary>
    public static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>2^64 / φ, SplitMix64's (and Weyl sequences') increment.</summary>
    internal const ulong Golden = 0x9E3779B97F4A7C15UL;

    // Rules older than the stream table. Each is part of results people have recorded (evaluation accuracies, initial
    // weights, k-means modes), so they stay as they are; they live here so that every derived seed is in one file.

    /// <summary>
    /// Evaluation: repeat r trains its classifier with seed + r, so seed S+r with one repeat reproduces one repeat alone
    /// (neighbouring user seeds share repeats, by design).
    /// </summary>
    public static long EvaluationRepeat(long seed, int repeat) => seed + repeat;

    /// <summary>Evaluation protocols: the batches and augmentation of a classifier trained with <paramref name="seed"/>
    /// (a Weyl step away from the seed that initialises its weights).</summary>
    public static ulong EvaluationData(long seed) => unchecked((ulong)seed * Golden + 0x632BE59BD9B4E019UL);

    /// <summary>k-means: the System.Random seed of restart <paramref name="init"/>, a SplitMix64 hash of (seed, init) —
    /// System.Random streams from consecutive seeds start out correlated.</summary>
    public static int KMeansRestart(int seed, int init) => (int)(Mix((ulong)(uint)seed << 32 | (uint)init) & int.MaxValue);

    /// <summary>GraphBuilder: the initial state of one parameter's SplitMix64 stream, from the builder's seed and an
    /// FNV-1a hash of the parameter's name.</summary>
    public static ulong ParameterInit(int seed, ulong nameHash) => Finalise((ulong)(uint)seed * Golden) ^ nameHash;

    /// <summary>The train check (<see cref="Onnx.TrainCheck"/>): the seed of the second random input draw whose outputs are the fitting target.</summary>
    public static long TrainCheckTargetInputs(long seed) => seed + 1;
}

/// <summary>
/// A <see cref="System.Random"/> over SplitMix64 with a 64-bit seed (System.Random's own seed is 31 bits, too few to keep
/// every user seed apart). Integers in a range are drawn without modulo bias (Lemire's multiply-and-reject).
/// </summary>
public sealed class SplitMixRandom(ulong seed) : Random
{
    ulong state = seed;

    // SplitMix64: the state walks by the golden-ratio increment; Mix adds it and finalises, so Mix(old) is the next output.
    ulong NextUInt64()
    {
        ulong z = Seeds.Mix(state);
        state += 0x9E3779B97F4A7C15UL;
        return z;
    }

    // Uniform in [0, range) for range ≥ 1.
    ulong Below(ulong range)
    {
        ulong threshold = unchecked(0UL - range) % range;
        while (true)
        {
            ulong product = Math.BigMul(NextUInt64(), range, out ulong low);
            if (low >= threshold) return product;
        }
    }

    /// <inheritdoc/>
    protected override double Sample() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <inheritdoc/>
    public override double NextDouble() => Sample();

    /// <inheritdoc/>
    public override int Next() => (int)Below(int.MaxValue);

    /// <inheritdoc/>
    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return maxValue == 0 ? 0 : (int)Below((ulong)maxValue);
    }

    /// <inheritdoc/>
    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue == maxValue ? minValue : (int)((long)minValue + (long)Below((ulong)((long)maxValue - minValue)));
    }

    /// <inheritdoc/>
    public override long NextInt64() => (long)Below(long.MaxValue);

    /// <inheritdoc/>
    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return maxValue == 0 ? 0 : (long)Below((ulong)maxValue);
    }

    /// <inheritdoc/>
    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue == maxValue ? minValue : unchecked(minValue + (long)Below((ulong)(maxValue - minValue)));
    }

    /// <inheritdoc/>
    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    /// <inheritdoc/>
    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)(NextUInt64() >> 56);
    }

    /// <inheritdoc/>
    public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));
}
