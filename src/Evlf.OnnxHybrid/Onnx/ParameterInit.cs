namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// How a parameter's initial values are drawn. The draw is deterministic: a parameter's values depend only
/// on the builder's seed, the parameter's full name, its shape and this rule — so adding, removing or
/// reordering layers never changes another layer's initial weights, and the same seed gives the same bytes.
/// Fan-in / fan-out follow <c>torch.nn.init._calculate_fan_in_and_fan_out</c>: for a shape
/// <c>[out, in, k...]</c>, fan_in = in·∏k and fan_out = out·∏k.
/// </summary>
public abstract record ParameterInit
{
    private protected ParameterInit() { }

    /// <summary>All zeros (e.g. DiT's adaLN-Zero modulation and final layer).</summary>
    public static ParameterInit Zeros { get; } = new FillInit(0f);

    /// <summary>All ones (normalisation weights).</summary>
    public static ParameterInit Ones { get; } = new FillInit(1f);

    /// <summary>Every element equal to <paramref name="value"/>.</summary>
    public static ParameterInit Fill(float value) => new FillInit(value);

    /// <summary>N(mean, std²), e.g. <c>Normal(1)</c> for EVLF's pos_embed, <c>Normal(0.02)</c> for DiT's tables.</summary>
    public static ParameterInit Normal(double std = 1, double mean = 0) =>
        std >= 0 ? new NormalInit(mean, std) : throw new ArgumentOutOfRangeException(nameof(std), std, "A standard deviation cannot be negative.");

    /// <summary>U(−bound, bound).</summary>
    public static ParameterInit Uniform(double bound) => Uniform(-bound, bound);

    /// <summary>U(low, high).</summary>
    public static ParameterInit Uniform(double low, double high) =>
        low <= high ? new UniformInit(low, high) : throw new ArgumentException($"Uniform init needs low ≤ high; got [{low}, {high}].");

    /// <summary>
    /// <c>torch.nn.init.xavier_uniform_</c>: U(±gain·√(6/(fan_in+fan_out))). The fans come from the shape
    /// unless given (DiT initialises its patch-embedding conv as if flattened to [out, in·k·k]: pass
    /// <c>fanOut: out</c>).
    /// </summary>
    public static ParameterInit XavierUniform(double gain = 1, long? fanIn = null, long? fanOut = null) => new XavierInit(gain, fanIn, fanOut);

    /// <summary>
    /// <c>torch.nn.init.kaiming_uniform_(w, a)</c> with fan_in mode and leaky-ReLU gain √(2/(1+a²)):
    /// U(±gain·√(3/fan_in)). With a = √5 (PyTorch's Linear/Conv default) this is U(±1/√fan_in).
    /// </summary>
    public static ParameterInit KaimingUniform(double a) => new KaimingInit(a);

    /// <summary>PyTorch's default weight init of Linear and Conv layers: kaiming_uniform(a=√5) = U(±1/√fan_in).</summary>
    public static ParameterInit TorchDefaultWeight { get; } = new KaimingInit(Math.Sqrt(5));

    /// <summary>Exactly these values, in row-major order (e.g. a fixed 2-D sin-cos position table).</summary>
    public static ParameterInit Constant(ReadOnlySpan<float> values) => new ValuesInit(values.ToArray());

    /// <summary>Fills a parameter of the given shape; <paramref name="name"/> and <paramref name="seed"/> select its random stream.</summary>
    internal float[] Draw(string name, long[] shape, int seed)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (count > Array.MaxLength)
            throw new ArgumentException($"Parameter '{name}' has {count} elements; the builder holds at most {Array.MaxLength} per parameter.");
        var values = new float[count];
        Fill(values, shape, new InitRandom(seed, name), name);
        return values;
    }

    private protected abstract void Fill(float[] values, long[] shape, InitRandom random, string name);

    static (long FanIn, long FanOut) Fans(long[] shape, string name)
    {
        if (shape.Length < 2)
            throw new ArgumentException($"Parameter '{name}' of shape [{string.Join(", ", shape)}] has no fan-in/fan-out (needs at least 2 dimensions); give an explicit init.");
        long receptive = shape.Skip(2).Aggregate(1L, (a, d) => a * d);
        return (shape[1] * receptive, shape[0] * receptive);
    }

    sealed record FillInit(float Value) : ParameterInit
    {
        private protected override void Fill(float[] values, long[] shape, InitRandom random, string name) => Array.Fill(values, Value);
    }

    sealed record UniformInit(double Low, double High) : ParameterInit
    {
        private protected override void Fill(float[] values, long[] shape, InitRandom random, string name) =>
            random.Uniform(values, Low, High);
    }

    sealed record NormalInit(double Mean, double Std) : ParameterInit
    {
        private protected override void Fill(float[] values, long[] shape, InitRandom random, string name) =>
            random.Normal(values, Mean, Std);
    }

    sealed record XavierInit(double Gain, long? FanIn, long? FanOut) : ParameterInit
    {
        private protected override void Fill(float[] values, long[] shape, InitRandom random, string name)
        {
            var (fanIn, fanOut) = FanIn is not null && FanOut is not null ? (FanIn.Value, FanOut.Value) : Fans(shape, name);
            fanIn = FanIn ?? fanIn;
            fanOut = FanOut ?? fanOut;
            double bound = Gain * Math.Sqrt(6.0 / (fanIn + fanOut));
            random.Uniform(values, -bound, bound);
        }
    }

    sealed record KaimingInit(double A) : ParameterInit
    {
        private protected override void Fill(float[] values, long[] shape, InitRandom random, string name)
        {
            var (fanIn, _) = Fans(shape, name);
            double gain = Math.Sqrt(2.0 / (1 + A * A));
            double bound = gain * Math.Sqrt(3.0 / fanIn);
            random.Uniform(values, -bound, bound);
        }
    }

    sealed record ValuesInit(float[] Values) : ParameterInit
    {
        private protected override void Fill(float[] values, long[] shape, InitRandom random, string name)
        {
            if (Values.Length != values.Length)
                throw new ArgumentException($"Parameter '{name}' of shape [{string.Join(", ", shape)}] needs {values.Length} values; the constant init holds {Values.Length}.");
            Values.CopyTo(values, 0);
        }

        public override string ToString() => $"Constant({Values.Length} values)";
    }
}

/// <summary>
/// The random stream of one parameter: SplitMix64 seeded from the builder seed and an FNV-1a hash of the
/// parameter's name. Our own generator, so the bytes never change with the .NET version.
/// </summary>
sealed class InitRandom
{
    ulong state;

    public InitRandom(int seed, string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        state = Seeds.ParameterInit(seed, hash);
    }

    ulong Next()
    {
        ulong z = Seeds.Mix(state);
        state += Seeds.Golden;
        return z;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    public void Uniform(float[] values, double low, double high)
    {
        for (int i = 0; i < values.Length; i++)
        {
            // Computed in double, then rounded; clamp keeps rounding from stepping past the bound.
            values[i] = (float)Math.Clamp(low + (high - low) * NextDouble(), low, high);
        }
    }

    public void Normal(float[] values, double mean, double std)
    {
        // Box–Muller, both outputs used.
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = 1.0 - NextDouble(), u2 = NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(mean + std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(mean + std * r * Math.Sin(2 * Math.PI * u2));
        }
    }
}
