using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>What <see cref="TrainCheck"/> fits the outputs to.</summary>
public enum TrainCheckTarget
{
    /// <summary>
    /// The graph's own outputs for a second set of random inputs: a fixed target of the output's scale and
    /// structure, which the network can represent, so the loss measures learning (the command line's train check uses it by default).
    /// </summary>
    Outputs,

    /// <summary>
    /// Independent N(0, 1) values per output element (<see cref="TrainCheck.Run"/>'s default). A convolutional decoder cannot fit white noise in 50
    /// steps, however correct its gradients: PyTorch itself ends at 0.49–0.72 × the first loss on the VAE
    /// decoder fixture and two tools/export random decoders (tools/bench/onnx_eager, same recipe).
    /// </summary>
    Noise,
}

/// <summary>
/// Proves a graph trains through the importer: every float initializer trainable, Adam fits every float
/// output to a fixed random target (MSE), in train mode as real training runs. The loss before and after
/// is measured in train mode too (the objective being minimised: BatchNorm uses batch statistics), with the
/// module's Dropout generator reseeded so it draws the same masks for both measurements.
/// </summary>
public static class TrainCheck
{
    public sealed record Result(double LossBefore, double LossAfter, int TrainableTensors, long TrainableValues);

    /// <param name="model">Graph to check; imported with every float initializer trainable.</param>
    /// <param name="inputs">Inputs the model is trained and measured on.</param>
    /// <param name="seed">Seed of the noise target and of the Dropout generator, reseeded before each loss measurement.</param>
    /// <param name="steps">Adam steps between the two measurements.</param>
    /// <param name="learningRate">Adam learning rate.</param>
    /// <param name="target">What the float outputs are fitted to.</param>
    /// <param name="targetInputs">For <see cref="TrainCheckTarget.Outputs"/>: the inputs whose outputs are the
    /// target (same names and shapes as <paramref name="inputs"/>, other values).</param>
    public static Result Run(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, long seed, int steps = 50,
        double learningRate = 1e-3, TrainCheckTarget target = TrainCheckTarget.Noise, IReadOnlyDictionary<string, Tensor>? targetInputs = null)
    {
        if (target == TrainCheckTarget.Outputs && targetInputs is null)
            throw new ArgumentException("Fitting another input's outputs needs targetInputs.", nameof(targetInputs));
        using var scope = NewDisposeScope();
        using var module = OnnxTorchModule.FromModel(model, ImportOptions.AllTrainable);
        using var generator = new Generator(Seeds.Derive(seed, SeedStream.TrainCheck, 0));
        // Dropout draws from a generator of the check's own: libtorch's global one is shared with whatever else the
        // process runs (other tests, on other threads), which would shift the masks from run to run.
        using var dropoutGenerator = new Generator(Seeds.Derive(seed, SeedStream.TrainCheck, 1));
        module.RandomGenerator = dropoutGenerator;
        Dictionary<string, Tensor> targets;
        using (no_grad())
        {
            module.train();
            targets = module.forward(target == TrainCheckTarget.Outputs ? targetInputs! : inputs)
                .Where(kv => kv.Value.is_floating_point())
                .ToDictionary(kv => kv.Key, kv => target == TrainCheckTarget.Outputs
                    ? kv.Value.to(ScalarType.Float32).detach()
                    : randn(kv.Value.shape, generator: generator));
        }
        if (targets.Count == 0)
            throw new UserInputException("The model has no float outputs, so a train check has nothing to fit.");

        var parameters = module.TrainableParameters.Select(p => p.Parameter).ToList();
        using var optimizer = optim.Adam(parameters, lr: learningRate);

        module.train();
        double Loss(bool step)
        {
            if (!step) dropoutGenerator.manual_seed(Seeds.DeriveLong(seed, SeedStream.TrainCheck, 1));
            var outputs = module.forward(inputs);
            var loss = targets.Select(kv => nn.functional.mse_loss(outputs[kv.Key].to(ScalarType.Float32), kv.Value)).Aggregate((a, b) => a + b);
            if (step)
            {
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            return loss.item<float>();
        }

        double before;
        using (no_grad()) before = Loss(step: false);
        for (int i = 0; i < steps; i++)
        {
            using var stepScope = NewDisposeScope();
            Loss(step: true);
        }
        double after;
        using (no_grad()) after = Loss(step: false);
        return new Result(before, after, parameters.Count, parameters.Sum(p => p.NumberOfElements));
    }
}
