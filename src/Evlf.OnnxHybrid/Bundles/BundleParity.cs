using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>One finding of a <see cref="BundleParity"/> check, about one component of the bundle.</summary>
public abstract record BundleParityEntry(string Component);

/// <summary>The seeded random inputs a component is about to run on, described as "name dtype[shape], …".</summary>
public sealed record ParityInputs(string Component, string Described) : BundleParityEntry(Component);

/// <summary>How far one output of a component is from its counterpart.</summary>
public sealed record ParityOutput(string Component, ParityCheck.OutputDiff Diff) : BundleParityEntry(Component);

/// <summary>
/// The parity check of a bundle: every component in ONNX Runtime and in the importer on seeded random inputs
/// (floats N(0,1), labels and token ids within their tables, timesteps in [0, 1000)) at the bundle's sizes; then, where
/// tools/export left reference/reference.json, ONNX Runtime on the reference inputs against the PyTorch outputs.
/// Findings come one at a time, as they are found, so a caller can show progress; they carry no tensors (each
/// component's tensors live in a dispose scope that the enumeration holds until its last finding).
/// </summary>
public static class BundleParity
{
    /// <summary>For each component, its <see cref="ParityInputs"/> and then a <see cref="ParityOutput"/> per output (ONNX Runtime vs the importer).</summary>
    /// <param name="bundle">A bundle without problems (<see cref="ModelBundle.Check"/>).</param>
    /// <param name="seed">Seed of every component's random inputs.</param>
    /// <param name="batch">Batch size of the random inputs.</param>
    /// <param name="dims">Sizes of named dimensions that take precedence over the bundle's.</param>
    public static IEnumerable<BundleParityEntry> ImporterVsOnnxRuntime(ModelBundle bundle, long seed, int batch, IReadOnlyDictionary<string, long> dims)
    {
        var cpu = new SessionSettings(ExecutionDevice.Cpu);
        foreach (var component in BundleComponent.All(bundle))
        {
            using var scope = NewDisposeScope();
            var model = OnnxModel.Load(component.Path);
            var inputs = RandomInputs.For(model, seed, batch, component.DimsFor(model, dims));
            yield return new ParityInputs(component.Name, RandomInputs.Describe(inputs));
            foreach (var d in ParityCheck.Run(model, inputs, cpu)) yield return new ParityOutput(component.Name, d);
        }
    }

    /// <summary>Whether tools/export left a PyTorch reference (reference/reference.json) in the bundle.</summary>
    public static bool HasPyTorchReference(ModelBundle bundle) => File.Exists(ReferenceIndex(bundle));

    /// <summary>
    /// A <see cref="ParityOutput"/> per output of every component in the reference: ONNX Runtime on the reference inputs
    /// against the PyTorch outputs. A reference that does not fit the bundle's files is a <see cref="UserInputException"/>.
    /// </summary>
    public static IEnumerable<ParityOutput> OnnxRuntimeVsPyTorch(ModelBundle bundle)
    {
        var cpu = new SessionSettings(ExecutionDevice.Cpu);
        foreach (var reference in ExportReference.Read(ReferenceIndex(bundle)))
        {
            using var scope = NewDisposeScope();
            using var session = OnnxSession.Open(bundle.PathOf(reference.File), cpu);
            var referenceInputs = reference.Inputs();
            if (session.Inputs.FirstOrDefault(i => !referenceInputs.ContainsKey(i.Name)) is { } lacking)
                throw new UserInputException($"Bundle '{bundle.Directory}': reference/{reference.Folder}/inputs has no '{lacking.Name}.pb' for {reference.Component}; was the reference written by another export?");
            var actual = session.Run(referenceInputs);
            foreach (var (name, expected) in reference.Outputs())
            {
                if (!actual.TryGetValue(name, out var got) || !got.shape.SequenceEqual(expected.shape))
                    throw new UserInputException($"Bundle '{bundle.Directory}': {reference.Component} output '{name}' does not match reference/{reference.Folder} (missing, or shape [{string.Join(",", got?.shape ?? Array.Empty<long>())}] instead of [{string.Join(",", expected.shape)}]); was the reference written by another export?");
                double diff = (got.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
                double scale = expected.abs().max().to(ScalarType.Float64).item<double>();
                yield return new ParityOutput(reference.Component, new ParityCheck.OutputDiff(name, expected.shape, diff, scale));
            }
        }
    }

    static string ReferenceIndex(ModelBundle bundle) => Path.Combine(bundle.Directory, ExportReference.DirectoryName, ExportReference.IndexFile);
}
