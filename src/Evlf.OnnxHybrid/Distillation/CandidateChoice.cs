using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Distillation;

/// <summary>The two steps of choosing among over-generated candidates (<see cref="DistillOptions.Candidates"/>) beside herding.</summary>
public static class CandidateChoice
{
    /// <summary>
    /// The candidates the network assigns to their class (<paramref name="assigned"/>), in their order; when fewer than
    /// <paramref name="ipc"/>, also the most probable of the others, so that ipc remain.
    /// </summary>
    public static Tensor Assigned(Tensor probability, Tensor assigned, int ipc)
    {
        var inClass = assigned.nonzero().flatten();
        if (inClass.shape[0] >= ipc) return inClass;
        var others = assigned.logical_not().nonzero().flatten();
        var order = probability.index_select(0, others).argsort(descending: true);
        var fill = others.index_select(0, order.narrow(0, 0, ipc - inClass.shape[0]));
        return cat([inClass, fill]).sort().Values;
    }

    /// <summary>
    /// Kernel herding: <paramref name="k"/> rows of <paramref name="features"/> (n×d) chosen one at a time, each the row that
    /// makes MMD²(chosen, <paramref name="real"/>) smallest under k(x, y) = exp(−‖x − y‖² / (2σ²)). Up to a constant,
    /// MMD² of a set S of size t is (1/t²)·Σ_{s,s′∈S} k(s, s′) − (2/t)·Σ_{s∈S} mean_r k(s, r); the sums are kept
    /// incrementally. σ² is half the median squared distance between distinct real rows (the median heuristic, so the
    /// kernel's exponent is −‖x − y‖²/median). With <paramref name="groups"/>, one row per group (<see cref="Eligibility"/>).
    /// </summary>
    public static int[] KernelHerding(Tensor features, int k, Tensor real, Tensor? groups = null)
    {
        using var scope = NewDisposeScope();
        var f = features.to(float64);
        var r = real.to(float64);
        var realDistances = SquaredDistances(r, r);
        long m = r.shape[0];
        var offDiagonal = realDistances.masked_select(eye(m, dtype: @bool).logical_not());
        double median = m > 1 ? offDiagonal.median().item<double>() : 1.0;
        if (!(median > 0)) median = 1.0;
        var kernel = (-SquaredDistances(f, f) / median).exp();
        var closeness = (-SquaredDistances(f, r) / median).exp().mean([1]);
        var selfSum = 0.0;
        var crossSum = 0.0;
        var towardsChosen = zeros(f.shape[0], dtype: float64);
        var taken = new Eligibility(f.shape[0], groups);
        var picks = new int[k];
        for (int t = 1; t <= k; t++)
        {
            // MMD² of S ∪ {i}: (selfSum + k(i, i) + 2·Σ_s k(i, s))/t² − 2·(crossSum + closeness_i)/t.
            var score = (selfSum + kernel.diagonal() + 2 * towardsChosen) / ((double)t * t) - 2 * (crossSum + closeness) / t;
            score.masked_fill_(taken.Mask, double.PositiveInfinity);
            int i = (int)score.argmin().item<long>();
            picks[t - 1] = i;
            taken.Take(i);
            selfSum += kernel[i, i].item<double>() + 2 * towardsChosen[i].item<double>();
            crossSum += closeness[i].item<double>();
            towardsChosen.add_(kernel[i]);
        }
        return picks;
    }

    static Tensor SquaredDistances(Tensor a, Tensor b) =>
        (a.pow(2).sum(1, keepdim: true) - 2 * a.matmul(b.t()) + b.pow(2).sum(1).unsqueeze(0)).clamp_min(0);

    /// <summary>
    /// Greedy k-center: the row nearest <paramref name="target"/>, then each time the row farthest from every chosen one;
    /// with <paramref name="groups"/>, one row per group (<see cref="Eligibility"/>).
    /// </summary>
    public static int[] KCenter(Tensor features, int k, Tensor target, Tensor? groups = null)
    {
        var f = features.to(float64);
        var nearestChosen = (f - target.to(float64)).norm(1, false, 2);
        var picks = new int[k];
        var taken = new Eligibility(f.shape[0], groups);
        for (int t = 0; t < k; t++)
        {
            // The first pick minimises the distance to the target, the later ones maximise the distance to the chosen set.
            var score = t == 0 ? -nearestChosen : nearestChosen.clone();
            score.masked_fill_(taken.Mask, double.NegativeInfinity);
            int i = (int)score.argmax().item<long>();
            picks[t] = i;
            taken.Take(i);
            var distance = (f - f[i]).norm(1, false, 2);
            nearestChosen = t == 0 ? distance : minimum(nearestChosen, distance);
        }
        return picks;
    }
}

/// <summary>
/// The rows a greedy choice may still take: each row at most once, and with groups (a group id per row), one row per group
/// until every group has given one, then again one per group among the rows left (a group with no rows left is skipped).
/// </summary>
internal sealed class Eligibility(long rows, Tensor? groups)
{
    readonly Tensor taken = zeros(rows, dtype: @bool);

    /// <summary>True where a row may not be taken now.</summary>
    public Tensor Mask { get; private set; } = zeros(rows, dtype: @bool);

    public void Take(long row)
    {
        taken[row] = true;
        if (groups is null)
        {
            Mask = taken;
            return;
        }
        Mask = Mask.logical_or(groups.eq(groups[row]));
        // Every group has given a row: the next round opens them all again.
        if (Mask.all().item<bool>()) Mask = taken.clone();
    }
}
