using Evlf.OnnxHybrid.Diffusion;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Tests.Diffusion;
using Evlf.OnnxHybrid.Training;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Training;

/// <summary>
/// MinimaxDiffusion's criteria against tools/reference/minimax_reference.py: over a sequence of fine-tune steps, x̂₀ from
/// the predicted ε on DiT's schedule, the representativeness and diversity terms, their gradient with respect to ε, and
/// the FIFO memories at the end — in float64, to 1e-12. A resumed sequence (memories saved and loaded halfway) matches too.
/// </summary>
public class MinimaxReferenceTests
{
    const string Script = "tools/reference/minimax_reference.py";
    static string Root => Path.Combine(AppContext.BaseDirectory, "Training", "Vectors");

    public static IEnumerable<object[]> Cases => ReferenceVectors.Cases(Root, "minimax_");

    [Theory]
    [MemberData(nameof(Cases))]
    public void TermsGradientsAndMemoriesMatchTheReference(string name)
    {
        var v = new ReferenceVectors(Root, name, Script);
        using var criteria = new MinimaxCriteria(v.Int("classes"), v.Int("memory"));
        for (int s = 0; s < v.Int("steps"); s++) CheckStep(v, criteria, s);
        CheckMemories(v, criteria);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AResumedSequenceContinuesWithTheSavedMemories(string name)
    {
        var v = new ReferenceVectors(Root, name, Script);
        string folder = Directory.CreateTempSubdirectory("evlf-minimax-").FullName;
        try
        {
            int half = v.Int("steps") / 2;
            using (var first = new MinimaxCriteria(v.Int("classes"), v.Int("memory")))
            {
                for (int s = 0; s < half; s++) CheckStep(v, first, s);
                first.Save(folder);
            }
            using var resumed = new MinimaxCriteria(v.Int("classes"), v.Int("memory"));
            resumed.Load(folder);
            for (int s = half; s < v.Int("steps"); s++) CheckStep(v, resumed, s);
            CheckMemories(v, resumed);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    static void CheckStep(ReferenceVectors v, MinimaxCriteria criteria, int s)
    {
        var schedule = NoiseSchedule.Create(NoiseScheduleOptions.DiT);
        var eps = v.Tensor($"eps_{s}").requires_grad_(true);
        var predictedX0 = schedule.PredictX0FromEps(v.Tensor($"xt_{s}"), eps, v.Tensor($"t_{s}"));
        TensorAssert.Close(v.Tensor($"x0hat_{s}"), predictedX0.detach(), 1e-12, 1e-12, $"x̂₀ of step {s}");

        var (representativeness, diversity) = criteria.Step(predictedX0, v.Tensor($"x0_{s}"), v.Tensor($"labels_{s}"));
        Assert.Equal(v.Double($"rep_{s}"), representativeness.item<double>(), 12);
        Assert.Equal(v.Double($"div_{s}"), diversity.item<double>(), 12);
        (v.Double("rep_weight") * representativeness + v.Double("div_weight") * diversity + 0 * eps.sum()).backward();
        TensorAssert.Close(v.Tensor($"grad_{s}"), eps.grad!, 1e-9, 1e-14, $"∂/∂ε of step {s}");
    }

    /// <summary>The memories, as <see cref="MinimaxCriteria.Save"/> writes them, hold the reference's rows in its order.</summary>
    static void CheckMemories(ReferenceVectors v, MinimaxCriteria criteria)
    {
        string folder = Directory.CreateTempSubdirectory("evlf-minimax-memories-").FullName;
        try
        {
            criteria.Save(folder);
            for (int c = 0; c < v.Int("classes"); c++)
            {
                Assert.Equal(v.Int($"count_{c}"), criteria.Count(c));
                if (v.Int($"count_{c}") == 0) continue;
                foreach (var memory in new[] { "real", "pseudo" })
                    TensorAssert.Close(v.Tensor($"{memory}_memory_{c}"),
                        OnnxTensor.ToTorch(global::Onnx.TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, $"minimax-{memory}-{c}.pb")))), 1e-12, 1e-12, $"{memory} memory of class {c}");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void TheEmaDecayScalesTheReleasedOneToTheSteps()
    {
        Assert.Equal(0.9999, new MinimaxOptions { Steps = 12_000 }.EffectiveEmaDecay, 15);
        Assert.Equal(0.9999, new MinimaxOptions().EffectiveEmaDecay, 15);   // the released 12 000 steps
        Assert.Equal(Math.Pow(0.9999, 2), new MinimaxOptions { Steps = 6000 }.EffectiveEmaDecay, 15);
        Assert.Equal(Math.Pow(0.9999, 8), new MinimaxOptions { Steps = 1500 }.EffectiveEmaDecay, 15);
        Assert.Equal(0.5, new MinimaxOptions { EmaDecay = 0.5 }.EffectiveEmaDecay);
        var training = new MinimaxOptions().Training;
        Assert.False(training.EmaWarmup);
        Assert.Equal(0, training.WeightDecay);
        Assert.Equal((8, 1e-3, 0.1), (training.BatchSize, training.LearningRate, training.ConditionDropout));
    }

    [Fact]
    public void BadOptionsNameTheOption()
    {
        var e = Assert.Throws<UserInputException>(() => new MinimaxOptions { Steps = 0 }.Validate());
        Assert.Equal("MinimaxOptions.Steps", e.Option);
        Assert.Equal("MinimaxOptions.MemorySize", Assert.Throws<UserInputException>(() => new MinimaxOptions { MemorySize = 0 }.Validate()).Option);
        Assert.Equal("MinimaxOptions.EmaDecay", Assert.Throws<UserInputException>(() => new MinimaxOptions { EmaDecay = 1 }.Validate()).Option);
        Assert.Equal("DistillOptions.Finetune",
            Assert.Throws<UserInputException>(() => new DistillOptions { Method = DistillMethod.Minimax, Finetune = true }.Validate()).Option);
        Assert.False(DistillOptions.For(DistillMethod.Minimax).Evlf);
        Assert.True(DistillOptions.For(DistillMethod.Mgd3).Evlf);
    }
}
