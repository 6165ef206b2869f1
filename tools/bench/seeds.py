"""The seeds of src/Evlf.OnnxHybrid/Seeds.cs: SplitMix64's finaliser over (user seed, stream, index)."""

SEED_MODE_FLIPS, SEED_CLASS_SAMPLING, SEED_FUSION_POOL, SEED_FUSION_DROPOUT, SEED_EPOCH_ORDER, SEED_STEP_NOISE = 1, 3, 4, 5, 7, 8
MASK64 = (1 << 64) - 1


def mix64(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def derive_seed(seed, stream, index=0):
    return mix64(mix64(mix64(seed & MASK64) ^ stream) ^ (index & MASK64))
