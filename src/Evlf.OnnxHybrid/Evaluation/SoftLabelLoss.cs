using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Evlf.OnnxHybrid.Evaluation;

/// <summary>
/// The knowledge-distillation loss of soft-label evaluation (Hinton, Vinyals and Dean 2015, "Distilling the Knowledge
/// in a Neural Network", §2): with p = softmax(z_teacher / T) and q = softmax(z_student / T),
/// L = T² · (1/N) Σ_n KL(p_n ‖ q_n) = T² · (1/N) Σ_n Σ_k p_nk (log p_nk − log q_nk).
/// The batch mean is PyTorch's <c>KLDivLoss(reduction="batchmean")</c> on (log q, p), as RDED's and SRe2L's
/// validation code call it; the T² factor is Hinton et al.'s, which keeps the gradient's size independent of T
/// (∂L/∂z_student = T·(q − p)/N). RDED and SRe2L leave T² out (SRe2L's train_KD.py has it commented out); under AdamW,
/// which normalises the gradient's scale, the factor changes the reported loss and little else, and at T = 20 it keeps
/// the gradients well above Adam's ε.
/// </summary>
public static class SoftLabelLoss
{
    /// <summary>
    /// T² · mean over the batch of KL(softmax(<paramref name="teacherLogits"/>/T) ‖ softmax(<paramref name="studentLogits"/>/T));
    /// both N×K. The teacher's logits get no gradient.
    /// </summary>
    public static Tensor KlDivergence(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite number above 0.");
        if (!studentLogits.shape.SequenceEqual(teacherLogits.shape) || studentLogits.ndim != 2)
            throw new ArgumentException($"Student and teacher logits must both be N×K; got [{string.Join(", ", studentLogits.shape)}] and [{string.Join(", ", teacherLogits.shape)}].");
        using var scope = NewDisposeScope();
        var logQ = F.log_softmax(studentLogits / temperature, 1);
        var logP = F.log_softmax(teacherLogits.detach() / temperature, 1);
        var kl = (logP.exp() * (logP - logQ)).sum(1).mean();
        return kl.mul(temperature * temperature).MoveToOuterDisposeScope();
    }
}
