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

    /// <summary>
    /// τ's factor for <see cref="Discriminative"/>: screened at 0.03, 0.1, 0.3 and 1 on the default run at IPC 1
    /// (docs/EVALUATION.md §24); 0.1 and 0.3 chose the same images and scored best.
    /// </summary>
    public const double DiscriminativeTemperature = 0.1;

    /// <summary>
    /// Refines a choice of candidates across classes: <paramref name="candidates"/>[c] holds class c's candidate features
    /// (n_c×d), <paramref name="picks"/>[c] the rows chosen so far (changed in place). A real row r of class y is
    /// classified by its nearest chosen image, logits ℓ_c(r) = −min_{s∈S_c} ‖r − s‖² / τ, and the loss is the mean
    /// cross-entropy −ℓ_y(r) + log Σ_c exp ℓ_c(r) over <paramref name="real"/> (labels <paramref name="realLabels"/>).
    /// Coordinate descent: for each class and each chosen row in turn, the candidate of that class that lowers the loss
    /// most takes its place; rounds repeat until none changes or after <paramref name="rounds"/>. τ is the median over
    /// real rows of the squared distance to the nearest initially chosen image, times <paramref name="temperature"/>.
    /// With <paramref name="groups"/> (a group id per candidate of each class), a chosen row is only replaced by one of its
    /// own group, so each group keeps as many chosen rows as it had. Returns the loss before and after.
    /// </summary>
    public static (double Before, double After) Discriminative(IReadOnlyList<Tensor> candidates, int[][] picks, Tensor real, Tensor realLabels,
        double temperature = DiscriminativeTemperature, int rounds = 5, IReadOnlyList<Tensor>? groups = null)
    {
        using var scope = NewDisposeScope();
        int classes = candidates.Count;
        var r = real.to(float64);
        var labels = realLabels.to(int64);
        var distances = candidates.Select(f => SquaredDistances(r, f.to(float64))).ToArray();
        Tensor Chosen(int c, int skip = -1)
        {
            var rows = picks[c].Where((_, j) => j != skip).Select(i => (long)i).ToArray();
            return rows.Length == 0
                ? full(r.shape[0], double.PositiveInfinity, dtype: float64)
                : distances[c].index_select(1, tensor(rows)).amin(1);
        }
        var nearest = stack(Enumerable.Range(0, classes).Select(c => Chosen(c)).ToArray(), 1);
        double tau = nearest.amin(1).median().item<double>() * temperature;
        if (!(tau > 0)) tau = 1.0;
        double Loss(Tensor d) => ((d.gather(1, labels.unsqueeze(1)).squeeze(1) / tau) + (-d / tau).logsumexp(1)).mean().item<double>();
        double before = Loss(nearest);
        for (int round = 0; round < rounds; round++)
        {
            bool changed = false;
            for (int c = 0; c < classes; c++)
            {
                // Each class's and each slot's temporaries go when they are done: a round makes classes × ipc of them, each real rows × candidates.
                using var classScope = NewDisposeScope();
                var ofClass = labels.eq(c);
                var others = (-nearest / tau).index_fill(1, tensor(new long[] { c }), double.NegativeInfinity).logsumexp(1);
                var ownOther = nearest.gather(1, labels.unsqueeze(1)).squeeze(1) / tau;
                for (int j = 0; j < picks[c].Length; j++)
                {
                    using var slotScope = NewDisposeScope();
                    // The class's nearest chosen distance with candidate i in slot j, for every real row and candidate.
                    var column = minimum(Chosen(c, j).unsqueeze(1), distances[c]) / tau;
                    var own = where(ofClass.unsqueeze(1), column, ownOther.unsqueeze(1));
                    var loss = (own + logaddexp(others.unsqueeze(1), -column)).mean([0]);
                    foreach (var (other, k) in picks[c].Select((p, k) => (p, k))) if (k != j) loss[other] = double.PositiveInfinity;
                    if (groups is not null) loss.masked_fill_(groups[c].ne(groups[c][picks[c][j]]), double.PositiveInfinity);
                    int best = (int)loss.argmin().item<long>();
                    if (best != picks[c][j] && loss[best].item<double>() < loss[picks[c][j]].item<double>() - 1e-12)
                    {
                        picks[c][j] = best;
                        changed = true;
                        nearest[.., c] = Chosen(c);
                    }
                }
            }
            if (!changed) break;
        }
        return (before, Loss(nearest));
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
