using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Fusion;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.Bench.Benchmarks;

/// <summary>
/// The importer against the same TorchSharp ops called by hand (<see cref="DirectFusionBaseline"/>) on the default EVLF
/// fusion module, eval, batch 16: what executing a graph costs over the calls it makes, and that both give the same result.
/// </summary>
public sealed class ImporterOverheadBenchmark : IBenchmark
{
    public void Run(BenchContext context)
    {
        using var scope = NewDisposeScope();
        var config = new FusionConfig();
        var model = CrossAttentionFusion.Build(config, 0);
        var direct = new DirectFusionBaseline(model, config);
        var inputs = RandomInputs.For(model, 0, NetworkBenchmark.Batch);
        using var module = OnnxTorchModule.FromModel(model);
        module.eval();
        Tensor Imported() => module.forward(inputs)[CrossAttentionFusion.FusedOutput];
        Tensor ByHand() => direct.Forward(inputs[CrossAttentionFusion.LatentInput], inputs[CrossAttentionFusion.TextInput]);
        // Many short pairs: the medians of a few drift with the host's speed more than the difference measured.
        var (importer, handWritten) = Timing.MedianMillisecondsInterleaved(
            () => { using (no_grad()) Imported(); },
            () => { using (no_grad()) ByHand(); },
            runs: 10 * context.Options.Runs);
        double diff;
        using (no_grad()) diff = (Imported() - ByHand()).abs().max().item<float>();
        context.Report["importer_vs_handwritten"] = new JsonObject
        {
            ["network"] = "fusion (EVLF default), batch 16, eval", ["timing"] = "interleaved runs, median of each",
            ["importer_ms"] = Math.Round(importer, 3), ["handwritten_ms"] = Math.Round(handWritten, 3),
            ["overhead_percent"] = Math.Round(100 * (importer / handWritten - 1), 1), ["max_abs_diff"] = diff,
        };
        context.Output.Line(FormattableString.Invariant($"importer vs hand-written TorchSharp (fusion, batch 16): {importer:F2} ms vs {handWritten:F2} ms ({100 * (importer / handWritten - 1):+0.0;-0.0}%), max |diff| {diff:E1}"));
    }
}
