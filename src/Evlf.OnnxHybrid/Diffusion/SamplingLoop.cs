using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Diffusion;

/// <summary>What the loop adds around the sampler's step.</summary>
/// <param name="Guidance">Classifier-free guidance, or null to call the denoiser once per step on x alone.</param>
/// <param name="ModeGuidance">MGD3 mode guidance (needs <see cref="SamplingInputs.Modes"/>), or null.</param>
/// <param name="GuidedTimestep">
/// With <paramref name="Guidance"/>: whether the step at a model timestep is guided; the other steps use the conditional
/// output alone (guidance in a limited interval). Null guides every step.
/// </param>
public sealed record SamplingLoopOptions(GuidanceOptions? Guidance = null, ModeGuidanceOptions? ModeGuidance = null, Predicate<int>? GuidedTimestep = null)
{
    /// <summary>MGD3 / EVLF stage C: DiT CFG (s = 4, channels 0–2) and mode guidance (λ 0.1, stop_t 25).</summary>
    public static SamplingLoopOptions Mgd3 { get; } = new(GuidanceOptions.DiT, new ModeGuidanceOptions());
}

/// <summary>The tensors of one sampling run. The loop reads them and never modifies or disposes them.</summary>
/// <param name="XStart">x at the first step: pure noise, or an <see cref="Img2ImgStart"/> noised latent. (N, C, …).</param>
public sealed record SamplingInputs(Tensor XStart)
{
    /// <summary>The condition passed to the denoiser (labels (N), text embeddings (N, L, D), …), or null.</summary>
    public Tensor? Condition { get; init; }

    /// <summary>The unconditional counterpart for guidance (DiT: the null label 1000; SD: the negative prompt); leading size N or 1.</summary>
    public Tensor? NullCondition { get; init; }

    /// <summary>MGD3 target modes m_j, one per sample, with as many values per sample as x (e.g. flattened (N, 4096)).</summary>
    public Tensor? Modes { get; init; }

    /// <summary>Respaced index of the first step (img2img: <see cref="Img2ImgStart.Index"/>); default the last index, Count − 1.</summary>
    public int? StartIndex { get; init; }

    /// <summary>Supplies the noise for the step at a respaced index (to replay a recorded run); default draws from the generator.</summary>
    public Func<int, Tensor>? StepNoise { get; init; }
}

/// <summary>
/// The reverse-diffusion loop: for respaced index i = start … 0 it calls the denoiser with x and the
/// model timestep of i (int64, one per row), applies classifier-free guidance and mode guidance, and
/// updates x with the sampler's step. The same loop runs an ONNX Runtime or a TorchSharp denoiser.
/// </summary>
/// <remarks>
/// With guidance the denoiser receives the batch [x; x] with conditions [c; c_null] and the guided
/// conditional half is kept (DiT's forward_with_cfg keeps the first half the same way). Buffers for the
/// model input, timesteps and noise are allocated once; each step's temporaries are disposed with the
/// step, including the denoiser's output. Noise is drawn only for steps that add it, in step order,
/// so a run is reproducible from the generator's seed.
/// </remarks>
public sealed class SamplingLoop
{
    public SamplingLoop(Sampler sampler, SamplingLoopOptions? options = null)
    {
        Sampler = sampler ?? throw new ArgumentNullException(nameof(sampler));
        Options = options ?? new SamplingLoopOptions();
    }

    public Sampler Sampler { get; }

    public SamplingLoopOptions Options { get; }

    /// <summary>
    /// Runs the loop and returns the final x (a new tensor). <paramref name="denoiser"/> maps
    /// (x, timesteps, condition) to the model output (B, C or 2C, …) and must not modify its inputs.
    /// <paramref name="progress"/> is told each step (task "sample", steps done of the steps this run takes).
    /// </summary>
    public Tensor Run(Func<Tensor, Tensor, Tensor?, Tensor> denoiser, SamplingInputs inputs, Generator? generator = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(inputs);
        var schedule = Sampler.Schedule;
        int start = inputs.StartIndex ?? schedule.Count - 1;
        if (start < 0 || start >= schedule.Count)
            throw new ArgumentOutOfRangeException(nameof(inputs), $"StartIndex {start} is outside 0..{schedule.Count - 1}.");
        var xStart = inputs.XStart;
        if (xStart.dim() < 2) throw new ArgumentException($"XStart must be (N, C, …); got shape [{string.Join(",", xStart.shape)}].", nameof(inputs));
        long n = xStart.shape[0];
        var guidance = Options.Guidance;
        var modeGuidance = Options.ModeGuidance;
        bool needsNoise = Enumerable.Range(0, start + 1).Any(Sampler.AddsNoise);
        if (needsNoise && generator is null && inputs.StepNoise is null)
            throw new ArgumentException("This sampler adds noise: pass a Generator (or SamplingInputs.StepNoise) so the run is reproducible.", nameof(generator));

        var owned = new List<Tensor>();
        Tensor? x = null;
        try
        {
            x = xStart.detach().clone();
            var batchShape = xStart.shape.ToArray();
            if (guidance is not null) batchShape[0] = 2 * n;
            var modelInput = guidance is null ? x : Own(owned, empty(batchShape, dtype: x.dtype, device: x.device));
            var timesteps = Own(owned, empty(new[] { batchShape[0] }, dtype: ScalarType.Int64, device: x.device));
            var condition = PrepareCondition(inputs, guidance, n, owned);
            var modes = modeGuidance is null ? null : PrepareModes(inputs, x, owned);
            // Step noise is drawn on the CPU (a CPU generator cannot fill GPU memory) and moved to x's device: the same draws anywhere.
            var noise = needsNoise && inputs.StepNoise is null ? Own(owned, empty(x.shape, dtype: x.dtype)) : null;

            for (int i = start, done = 1; i >= 0; i--, done++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                timesteps.fill_(schedule.ModelTimestep(i));
                // A step outside the guidance interval runs the conditional half alone: half the denoiser's work.
                bool guided = guidance is not null && Options.GuidedTimestep?.Invoke(schedule.ModelTimestep(i)) != false;
                if (guided)
                {
                    modelInput.narrow(0, 0, n).copy_(x);
                    modelInput.narrow(0, n, n).copy_(x);
                }
                long rows = guided ? 2 * n : n;
                var raw = guided ? denoiser(modelInput, timesteps, condition)
                    : denoiser(x, timesteps.narrow(0, 0, n), guidance is null ? condition : condition?.narrow(0, 0, n));
                if (raw.dim() < 1 || raw.shape[0] != rows)
                    throw new InvalidOperationException($"The denoiser returned shape [{string.Join(",", raw.shape)}] for a batch of {rows}.");
                var output = guided ? ClassifierFreeGuidance.CombineHalves(raw, guidance!) : raw;

                var p = Sampler.Predict(output, i, x);
                var next = p.Mean;
                if (modes is not null && ModeGuidance.Shift(p, modes, i, modeGuidance!) is { } g) next = next.add(g);
                if (Sampler.AddsNoise(i))
                {
                    Tensor eps;
                    if (inputs.StepNoise is not null)
                    {
                        eps = inputs.StepNoise(i);
                        if (!eps.shape.SequenceEqual(x.shape))
                            throw new InvalidOperationException($"StepNoise({i}) returned shape [{string.Join(",", eps.shape)}]; expected [{string.Join(",", x.shape)}].");
                        eps = eps.to(x.device);
                    }
                    else eps = noise!.normal_(0.0, 1.0, generator).to(x.device);
                    next = next.add(p.Std.mul(eps));
                }
                x.copy_(next);
                progress?.Report(new WorkProgress("sample", done, start + 1));
            }
            var result = x;
            x = null;
            return result;
        }
        finally
        {
            x?.Dispose();
            foreach (var t in owned) t.Dispose();
        }
    }

    static Tensor Own(List<Tensor> owned, Tensor t)
    {
        owned.Add(t);
        return t;
    }

    static Tensor? PrepareCondition(SamplingInputs inputs, GuidanceOptions? guidance, long n, List<Tensor> owned)
    {
        var c = inputs.Condition;
        if (guidance is null) return c;
        var u = inputs.NullCondition;
        if (c is null || u is null)
            throw new ArgumentException("Classifier-free guidance needs both Condition and NullCondition.", nameof(inputs));
        if (c.dim() < 1 || c.shape[0] != n)
            throw new ArgumentException($"Condition must have {n} rows, one per sample; got shape [{string.Join(",", c.shape)}].", nameof(inputs));
        if (u.dim() != c.dim() || !u.shape.Skip(1).SequenceEqual(c.shape.Skip(1)) || (u.shape[0] != n && u.shape[0] != 1))
            throw new ArgumentException($"NullCondition of shape [{string.Join(",", u.shape)}] does not match Condition [{string.Join(",", c.shape)}] (leading size {n} or 1).", nameof(inputs));
        using var scope = NewDisposeScope();
        var uRows = u.shape[0] == n ? u : u.expand(c.shape);
        return Own(owned, cat(new[] { c, uRows.to(c.dtype) }, 0).MoveToOuterDisposeScope());
    }

    static Tensor PrepareModes(SamplingInputs inputs, Tensor x, List<Tensor> owned)
    {
        var m = inputs.Modes ?? throw new ArgumentException("Mode guidance needs SamplingInputs.Modes, one mode per sample.", nameof(inputs));
        if (m.numel() != x.numel() || m.shape[0] != x.shape[0])
            throw new ArgumentException($"Modes of shape [{string.Join(",", m.shape)}] must hold one mode per sample with as many values as x [{string.Join(",", x.shape)}].", nameof(inputs));
        using var scope = NewDisposeScope();
        return Own(owned, m.reshape(x.shape).to(x.dtype).to(x.device).clone().MoveToOuterDisposeScope());
    }
}
