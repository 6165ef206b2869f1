using Evlf.OnnxHybrid.Evaluation;
using Evlf.OnnxHybrid.Tests.Diffusion;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

public class SoftLabelLossTests
{
    static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Evaluation", "Vectors");

    public static IEnumerable<object[]> Cases() => ReferenceVectors.Cases(Root, "kl_");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchKlDivLossBatchmeanTimesTSquaredAndItsGradient(string caseName)
    {
        var v = new ReferenceVectors(Root, caseName, "tools/reference/soft_label_reference.py");
        using var scope = NewDisposeScope();
        var student = v.Tensor("student").to(float64).requires_grad_(true);
        var teacher = v.Tensor("teacher").to(float64);
        var loss = SoftLabelLoss.KlDivergence(student, teacher, v.Double("temperature"));
        loss.backward();
        double expected = v.Doubles("loss")[0];
        Assert.Equal(expected, loss.item<double>(), 1e-12 * Math.Max(1, Math.Abs(expected)));
        var grad = student.grad!.data<double>().ToArray();
        var reference = v.Doubles("grad");
        for (int i = 0; i < grad.Length; i++) Assert.Equal(reference[i], grad[i], 1e-12);
        Assert.Null(teacher.grad);
    }

    [Fact]
    public void TwoClassesByHand()
    {
        // Teacher logits (ln 3, 0) and a uniform student: at T = 1, p = (3/4, 1/4), q = (1/2, 1/2),
        // KL = 3/4 ln(3/2) + 1/4 ln(1/2); at T = 2, p = (√3, 1)/(√3 + 1) and the loss is 4·KL.
        using var scope = NewDisposeScope();
        var student = zeros(1, 2, dtype: float64);
        var teacher = tensor(new[] { Math.Log(3), 0.0 }, [1, 2]);
        Assert.Equal(0.75 * Math.Log(1.5) + 0.25 * Math.Log(0.5), SoftLabelLoss.KlDivergence(student, teacher, 1).item<double>(), 1e-14);
        double p = Math.Sqrt(3) / (Math.Sqrt(3) + 1);
        double kl2 = p * Math.Log(2 * p) + (1 - p) * Math.Log(2 * (1 - p));
        Assert.Equal(4 * kl2, SoftLabelLoss.KlDivergence(student, teacher, 2).item<double>(), 1e-14);
        // The batch mean: a second, identical row leaves the loss unchanged; equal logits give 0.
        Assert.Equal(4 * kl2, SoftLabelLoss.KlDivergence(student.repeat(2, 1), teacher.repeat(2, 1), 2).item<double>(), 1e-14);
        Assert.Equal(0, SoftLabelLoss.KlDivergence(teacher, teacher, 20).item<double>(), 1e-15);
    }

    [Fact]
    public void RejectsBadTemperaturesAndShapes()
    {
        using var scope = NewDisposeScope();
        var x = zeros(2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftLabelLoss.KlDivergence(x, x, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftLabelLoss.KlDivergence(x, x, double.NaN));
        Assert.Throws<ArgumentException>(() => SoftLabelLoss.KlDivergence(x, zeros(2, 4), 1));
    }
}
