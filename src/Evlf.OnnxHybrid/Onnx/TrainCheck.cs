using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// Proves a graph trains through the importer: every float initializer trainable, Adam fits every float
/// output to a fixed random target (MSE). Losses are measured in eval mode (deterministic); steps run in
/// train mode, as real training does.
/// </summary>
public static class TrainCheck
{
    public sealed record Result(double LossBefore, double LossAfter, int TrainableTensors, long TrainableValues);

    public static Result Run(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, long seed, int steps = 50, double learningRate = 1e-3)
    {
        using var scope = NewDisposeScope();
        using var module = OnnxTorchModule.FromModel(model, ImportOptions.AllTrainable);
        var generator = new Generator((ulong)seed + 1);
        Dictionary<string, Tensor> targets;
        using (no_grad())
        {
            module.eval();
            targets = module.forward(inputs)
                .Where(kv => kv.Value.is_floating_point())
                .ToDictionary(kv => kv.Key, kv => randn(kv.Value.shape, generator: generator));
        }
        if (targets.Count == 0)
            throw new UserInputException("The model has no float outputs, so there is nothing to fit in --train-check.");

        var parameters = module.TrainableParameters.Select(p => p.Parameter).ToList();
        using var optimizer = optim.Adam(parameters, lr: learningRate);

        double Loss(bool train)
        {
            if (train) module.train(); else module.eval();
            var outputs = module.forward(inputs);
            var loss = targets.Select(kv => nn.functional.mse_loss(outputs[kv.Key].to(ScalarType.Float32), kv.Value)).Aggregate((a, b) => a + b);
            if (train)
            {
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            return loss.item<float>();
        }

        double before;
        using (no_grad()) before = Loss(train: false);
        for (int i = 0; i < steps; i++)
        {
            using var stepScope = NewDisposeScope();
            Loss(train: true);
        }
        double after;
        using (no_grad()) after = Loss(train: false);
        return new Result(before, after, parameters.Count, parameters.Sum(p => p.NumberOfElements));
    }
}
