using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using OptimizerHelper = TorchSharp.Modules.OptimizerHelper;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// The optimisation loop every stage shares: resume from the checkpoint, run the <c>loss</c> callback for
/// each remaining step (it derives its batch and random draws from the step index), backward, optional
/// gradient clipping, optimizer step, checkpoint every so often and at the end (with the loss's own
/// <see cref="ICheckpointedState"/>, when it keeps one). Each step runs in its
/// own dispose scope. Returns the mean loss of each checkpoint interval.
/// </summary>
public static class TrainingLoop
{
    public static double[] Run(
        string stage,
        TrainingCheckpoint checkpoint,
        IReadOnlyDictionary<string, OnnxTorchModule> modules,
        OptimizerHelper optimizer,
        long totalSteps,
        Func<long, Tensor> loss,
        int checkpointEvery = 200,
        double clipGradNorm = 0,
        Action<long>? beforeStep = null,
        Action<long>? afterStep = null,
        ICheckpointedState? state = null,
        IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var resumed = checkpoint.LoadProgress(optimizer, state);
        long step = resumed?.Step ?? 0;
        var history = new List<double>(resumed?.Losses ?? Array.Empty<double>());
        var parameters = ClippedParameters(modules.Values);
        foreach (var m in modules.Values) m.train();
        double intervalSum = 0;
        int intervalCount = 0;
        while (step < totalSteps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double value;
            using (NewDisposeScope())
            {
                beforeStep?.Invoke(step);
                var (l, _) = Step(optimizer, () => loss(step), parameters, clipGradNorm);
                afterStep?.Invoke(step);
                value = l.item<float>();
            }
            if (double.IsNaN(value) || double.IsInfinity(value))
                throw new InvalidOperationException($"Training stage '{stage}' diverged at step {step} (loss {value}).");
            step++;
            intervalSum += value;
            intervalCount++;
            progress?.Report(new WorkProgress(stage, step, totalSteps, FormattableString.Invariant($"loss {value:F4}")));
            if (step % checkpointEvery == 0 || step == totalSteps)
            {
                history.Add(intervalSum / intervalCount);
                intervalSum = 0;
                intervalCount = 0;
                checkpoint.Save(modules, optimizer, new TrainingCheckpoint.Progress(step, history.ToArray()), state);
            }
        }
        return history.ToArray();
    }

    /// <summary>The parameters gradient clipping measures and scales: every parameter of every module that requires a gradient.</summary>
    public static List<TorchSharp.Modules.Parameter> ClippedParameters(IEnumerable<OnnxTorchModule> modules) =>
        modules.SelectMany(m => m.parameters()).Where(p => p.requires_grad).ToList();

    /// <summary>
    /// One optimisation step as <see cref="Run"/> takes it: zero the gradients, compute and backpropagate
    /// <paramref name="loss"/>, clip the global L2 norm of the gradients of <paramref name="clipped"/> to
    /// <paramref name="clipGradNorm"/> (0: no clipping), step. Returns the loss and the gradient norm before
    /// clipping (NaN when not clipping).
    /// </summary>
    public static (Tensor Loss, double GradNorm) Step(OptimizerHelper optimizer, Func<Tensor> loss,
        IReadOnlyList<TorchSharp.Modules.Parameter> clipped, double clipGradNorm)
    {
        optimizer.zero_grad();
        var l = loss();
        l.backward();
        double norm = clipGradNorm > 0 ? nn.utils.clip_grad_norm_(clipped, clipGradNorm) : double.NaN;
        optimizer.step();
        return (l, norm);
    }
}
