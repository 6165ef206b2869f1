using Evlf.OnnxHybrid.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Diffusion;

public class SamplingLoopTests
{
    static readonly NoiseSchedule Linear = NoiseSchedule.Create(NoiseScheduleOptions.DiT);
    static readonly NoiseSchedule Sd = NoiseSchedule.Create(NoiseScheduleOptions.StableDiffusion);

    // t / 1000 as a tensor–tensor division: an implicit Scalar (t / 1000.0) was once read after it was freed under a
    // full test run's GC pressure (c10 "toFloat: Expected false to be true").
    static Tensor Thousandths(Tensor t) => t.to(ScalarType.Float64).div(tensor(1000.0, ScalarType.Float64));

    /// <summary>The reference script's toy DiT: tanh(A·x + b·t/1000 + E[y]), channels 0–3 ε, 4–7 v.</summary>
    static Func<Tensor, Tensor, Tensor?, Tensor> ToyDiT(Tensor a, Tensor b, Tensor e, List<long[]>? seenTimesteps = null) => (x, t, y) =>
    {
        seenTimesteps?.Add(t.data<long>().ToArray());
        var h = einsum("oc,nchw->nohw", a, x);
        h = h + (b.unsqueeze(0) * Thousandths(t).unsqueeze(1)).to(x.dtype).unsqueeze(2).unsqueeze(3);
        h = h + e.index_select(0, y!).to(x.dtype).unsqueeze(2).unsqueeze(3);
        return h.tanh();
    };

    /// <summary>The reference script's toy UNet: ε = tanh(A·x + b·t/1000 + W·cond).</summary>
    static Func<Tensor, Tensor, Tensor?, Tensor> ToyUnet(Tensor a, Tensor b, Tensor w) => (x, t, cond) =>
    {
        var h = einsum("oc,nchw->nohw", a, x);
        h = h + (b.unsqueeze(0) * Thousandths(t).unsqueeze(1)).unsqueeze(2).unsqueeze(3);
        h = h + einsum("od,nd->no", w, cond!).unsqueeze(2).unsqueeze(3);
        return h.tanh();
    };

    [Fact]
    public void Mgd3LoopMatchesTheReference()
    {
        var v = new ReferenceVectors("loop_mgd3");
        using var scope = NewDisposeScope();
        var spaced = SpacedSchedule.FromSections(Linear, v.String("spacing"));
        Assert.Equal(v.IntArray("timesteps"), spaced.TimestepMap);
        var options = new SamplingLoopOptions(new GuidanceOptions(v.Double("scale"), v.Int("guidance_channels")),
            new ModeGuidanceOptions(v.Double("lambda"), v.Int("stop_t")));
        var noises = v.Tensor("noises");
        var xT = v.Tensor("x_T");
        var xTBefore = xT.clone();
        var seen = new List<long[]>();
        var loop = new SamplingLoop(new DdpmSampler(spaced), options);
        var result = loop.Run(ToyDiT(v.Tensor("A"), v.Tensor("b"), v.Tensor("E"), seen), new SamplingInputs(xT)
        {
            Condition = v.Tensor("y"),
            NullCondition = v.Tensor("y_null"),
            Modes = v.Tensor("modes"),
            StepNoise = i => noises[i],
        });
        TensorAssert.Close(v.Tensor("x_final"), result, 1e-10, 1e-10, "MGD3 loop");
        TensorAssert.Close(xTBefore, xT, 0, 0, "XStart untouched");
        // Called with the original timesteps, descending, on the doubled batch.
        Assert.Equal(spaced.TimestepMap.Reverse(), seen.Select(ts => (int)ts[0]));
        Assert.All(seen, ts => Assert.Equal(4, ts.Length));
    }

    [Fact]
    public void Mgd3LoopWithoutModeGuidanceDiffersFromTheReference()
    {
        // The same run with λ = 0 must not reproduce the guided result: the parity above is not vacuous.
        var v = new ReferenceVectors("loop_mgd3");
        using var scope = NewDisposeScope();
        var noises = v.Tensor("noises");
        var loop = new SamplingLoop(new DdpmSampler(SpacedSchedule.FromSections(Linear, "10")),
            new SamplingLoopOptions(new GuidanceOptions(4.0, 3)));
        var result = loop.Run(ToyDiT(v.Tensor("A"), v.Tensor("b"), v.Tensor("E")), new SamplingInputs(v.Tensor("x_T"))
        {
            Condition = v.Tensor("y"),
            NullCondition = v.Tensor("y_null"),
            StepNoise = i => noises[i],
        });
        Assert.True((result - v.Tensor("x_final")).abs().max().item<double>() > 1e-3);
    }

    [Fact]
    public void Img2ImgDdimLoopMatchesTheReference()
    {
        var v = new ReferenceVectors("loop_img2img_ddim");
        using var scope = NewDisposeScope();
        var spaced = SpacedSchedule.ForInference(Sd, v.Int("steps"), TimestepSpacingKind.Leading, v.Int("steps_offset"));
        var start = Img2ImgStart.Create(spaced, v.Double("strength"));
        Assert.Equal(v.Int("start_timestep"), start.Timestep);
        Assert.Equal(v.Int("evaluations"), start.Evaluations);
        var xStart = start.Noise(v.Tensor("x0"), v.Tensor("start_noise"));
        TensorAssert.Close(v.Tensor("x_start"), xStart, 1e-12, 1e-12, "noised start");

        var noises = v.Tensor("noises");
        var sampler = new DdimSampler(spaced, new DdimOptions(v.Double("eta"), v.Bool("set_alpha_to_one")));
        var loop = new SamplingLoop(sampler, new SamplingLoopOptions(new GuidanceOptions(v.Double("scale"))));
        int calls = 0;
        var toy = ToyUnet(v.Tensor("A"), v.Tensor("b"), v.Tensor("W"));
        var result = loop.Run((x, t, c) => { calls++; return toy(x, t, c); }, new SamplingInputs(xStart)
        {
            Condition = v.Tensor("cond"),
            NullCondition = v.Tensor("null"),
            StartIndex = start.Index,
            StepNoise = i => noises[i],
        });
        Assert.Equal(start.Evaluations, calls);
        TensorAssert.Close(v.Tensor("x_final"), result, 1e-10, 1e-10, "img2img DDIM loop");
    }

    sealed class Recorder : IProgress<WorkProgress>
    {
        public readonly List<int> Values = new();
        public Action<int>? OnReport;
        public void Report(WorkProgress value)
        {
            Assert.Equal(("sample", 12.0), (value.Task, value.Total));
            Values.Add((int)value.Done);
            OnReport?.Invoke((int)value.Done);
        }
    }

    static (SamplingLoop Loop, Func<Tensor, Tensor, Tensor?, Tensor> Denoiser, SamplingInputs Inputs) SmallMgd3(Generator g)
    {
        var a = randn(8, 4, generator: g) * 0.5;
        var b = randn(8, generator: g);
        var e = randn(11, 8, generator: g) * 0.5;
        var loop = new SamplingLoop(new DdpmSampler(SpacedSchedule.FromSections(Linear, "12")),
            SamplingLoopOptions.Mgd3 with { ModeGuidance = new ModeGuidanceOptions(StopT: 5) });
        var inputs = new SamplingInputs(randn(3, 4, 4, 4, generator: g))
        {
            Condition = tensor(new long[] { 0, 4, 9 }),
            NullCondition = tensor(new long[] { 10 }),
            Modes = randn(3, 64, generator: g),
        };
        return (loop, ToyDiT(a, b, e), inputs);
    }

    [Fact]
    public void GuidanceIntervalGuidesOnlyTheStepsItContains()
    {
        using var scope = NewDisposeScope();
        var (loop, denoiser, inputs) = SmallMgd3(new Generator(31));
        var seen = new List<long>();
        var batches = new List<long>();
        Tensor Counting(Tensor x, Tensor t, Tensor? c)
        {
            batches.Add(x.shape[0]);
            return denoiser(x, t, c);
        }
        Tensor Run(Predicate<int>? guided) =>
            new SamplingLoop(loop.Sampler, loop.Options with { GuidedTimestep = guided }).Run(Counting, inputs, new Generator(5));
        var plain = Run(null);
        var all = Run(t => true);
        var none = Run(t => { seen.Add(t); return false; });
        var middle = Run(t => t >= 200 && t <= 800);
        var unguided = new SamplingLoop(loop.Sampler, loop.Options with { Guidance = null }).Run(denoiser, inputs, new Generator(5));
        TensorAssert.Close(plain, all, 0, 0, "interval over every step");
        TensorAssert.Close(unguided, none, 0, 0, "empty interval");
        Assert.True((middle - plain).abs().max().item<float>() > 1e-4);
        Assert.True((middle - none).abs().max().item<float>() > 1e-4);
        // The predicate sees the model timesteps, from the noisiest down.
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)loop.Sampler.Schedule.ModelTimestep(11 - i)), seen);
        // Guided steps run both halves (2 × 3 rows), unguided ones the conditional half alone (3 rows).
        batches.Clear();
        Run(t => t >= 500);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => loop.Sampler.Schedule.ModelTimestep(11 - i) >= 500 ? 6L : 3L), batches);
    }

    [Fact]
    public void SameSeedGivesTheSameSamplesAndAnotherSeedDoesNot()
    {
        using var scope = NewDisposeScope();
        var (loop, denoiser, inputs) = SmallMgd3(new Generator(31));
        var first = loop.Run(denoiser, inputs, new Generator(5));
        var again = loop.Run(denoiser, inputs, new Generator(5));
        var other = loop.Run(denoiser, inputs, new Generator(6));
        TensorAssert.Close(first, again, 0, 0, "same seed");
        Assert.True((first - other).abs().max().item<float>() > 1e-3);
        Assert.False(first.isnan().any().item<bool>());
    }

    [Fact]
    public void ProgressCountsFinishedStepsAndCancellationStopsTheLoop()
    {
        using var scope = NewDisposeScope();
        var (loop, denoiser, inputs) = SmallMgd3(new Generator(32));
        var progress = new Recorder();
        loop.Run(denoiser, inputs, new Generator(1), progress);
        Assert.Equal(Enumerable.Range(1, 12), progress.Values);

        using var cts = new CancellationTokenSource();
        var stopping = new Recorder { OnReport = n => { if (n == 3) cts.Cancel(); } };
        int calls = 0;
        Assert.Throws<OperationCanceledException>(() =>
            loop.Run((x, t, c) => { calls++; return denoiser(x, t, c); }, inputs, new Generator(1), stopping, cts.Token));
        Assert.Equal(3, calls);
    }

    [Fact]
    public void MissingInputsAreReportedBeforeAnyEvaluation()
    {
        using var scope = NewDisposeScope();
        var (loop, denoiser, inputs) = SmallMgd3(new Generator(33));
        int calls = 0;
        Func<Tensor, Tensor, Tensor?, Tensor> counting = (x, t, c) => { calls++; return denoiser(x, t, c); };
        Assert.Throws<ArgumentException>(() => loop.Run(counting, inputs)); // no generator
        Assert.Throws<ArgumentException>(() => loop.Run(counting, inputs with { NullCondition = null }, new Generator(1)));
        Assert.Throws<ArgumentException>(() => loop.Run(counting, inputs with { Modes = null }, new Generator(1)));
        Assert.Throws<ArgumentException>(() => loop.Run(counting, inputs with { Modes = zeros(3, 10) }, new Generator(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Run(counting, inputs with { StartIndex = 12 }, new Generator(1)));
        Assert.Equal(0, calls);
        var e = Assert.Throws<InvalidOperationException>(() => loop.Run((x, t, c) => zeros(1, 8, 4, 4), inputs, new Generator(1)));
        Assert.Contains("batch of 6", e.Message);
    }
}
