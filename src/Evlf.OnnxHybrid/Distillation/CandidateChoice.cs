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

    /// <summary>Greedy k-center: the row nearest <paramref name="target"/>, then each time the row farthest from every chosen one.</summary>
    public static int[] KCenter(Tensor features, int k, Tensor target)
    {
        var f = features.to(float64);
        var nearestChosen = (f - target.to(float64)).norm(1, false, 2);
        var picks = new int[k];
        var taken = zeros(f.shape[0], dtype: @bool);
        for (int t = 0; t < k; t++)
        {
            // The first pick minimises the distance to the target, the later ones maximise the distance to the chosen set.
            var score = t == 0 ? -nearestChosen : nearestChosen.clone();
            score.masked_fill_(taken, double.NegativeInfinity);
            int i = (int)score.argmax().item<long>();
            picks[t] = i;
            taken[i] = true;
            var distance = (f - f[i]).norm(1, false, 2);
            nearestChosen = t == 0 ? distance : minimum(nearestChosen, distance);
        }
        return picks;
    }
}
