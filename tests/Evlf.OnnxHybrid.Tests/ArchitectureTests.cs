using Evlf.OnnxHybrid.Bundles;
using TypeName = Evlf.OnnxHybrid.Tests.TypeDependencies.TypeName;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>
/// Dependencies point one way (docs/ARCHITECTURE.md, "Layout"): checked on the compiled library
/// (<see cref="TypeDependencies"/>), not on its source text.
/// </summary>
public class ArchitectureTests
{
    static readonly Lazy<HashSet<(TypeName From, TypeName To)>> Library = new(() => TypeDependencies.Of(typeof(ModelBundle).Assembly.Location));

    /// <summary>The folder (first namespace segment below Evlf.OnnxHybrid) a type lives in; "" for the root and for other assemblies' types.</summary>
    static string Layer(TypeName type) =>
        type.Namespace.StartsWith("Evlf.OnnxHybrid.", StringComparison.Ordinal) ? type.Namespace["Evlf.OnnxHybrid.".Length..].Split('.')[0] : "";

    public static TheoryData<string, string[]> Rules => new()
    {
        // The machinery every trainer shares knows none of them.
        { "Training", ["Pretraining", "Evaluation", "Distillation", "Fusion"] },
        // Pretraining (evlf pretrain) and Evaluation (evlf eval) sit on top: nothing the other commands use needs them.
        { "Fusion", ["Pretraining", "Evaluation"] },
        { "Distillation", ["Pretraining", "Evaluation"] },
        { "Classifiers", ["Pretraining", "Evaluation"] },
        { "Models", ["Pretraining", "Evaluation"] },
        { "Bundles", ["Pretraining", "Evaluation"] },
        // How runs split over processes knows no stage, pipeline or protocol: those use it.
        { "Sharding", ["Pretraining", "Evaluation", "Distillation", "Fusion", "Training", "Bundles", "Models", "Classifiers"] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void NoTypeOfALayerUsesTheLayersAboveIt(string layer, string[] above)
    {
        Assert.Contains(Library.Value, d => Layer(d.From) == layer);  // the layer exists and uses something
        var wrong = Library.Value.Where(d => Layer(d.From) == layer && above.Contains(Layer(d.To)))
            .Select(d => $"{d.From} -> {d.To}").Order(StringComparer.Ordinal).ToList();
        Assert.True(wrong.Count == 0, $"{layer} must not use {string.Join(" or ", above)}:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void TheReaderSeesReferencesMadeOnlyInsideMethodBodiesAndLambdas()
    {
        static TypeName T(string layer, string name) => new($"Evlf.OnnxHybrid.{layer}", name);
        var pairs = Library.Value;
        // A static call in a method body: FidelityCheck measures its judge with ClassifierAccuracy.
        Assert.Contains((T("Pretraining", "FidelityCheck"), T("Evaluation", "ClassifierAccuracy")), pairs);
        // A call in a lambda (a compiler-generated closure type nested in Pretrainer): Pretrainer's stages call VaeStage.Run inside Stage(...).
        Assert.Contains((T("Pretraining", "Pretrainer"), T("Pretraining", "VaeStage")), pairs);
        // An iterator's state machine counts for its declaring type: BundleParity.ImporterVsOnnxRuntime walks the
        // components (a List<BundleComponent>.Enumerator field, a generic argument) and yields ParityInputs (a constructor call).
        Assert.Contains((T("Bundles", "BundleParity"), T("Bundles", "BundleComponent")), pairs);
        Assert.Contains((T("Bundles", "BundleParity"), T("Bundles", "ParityInputs")), pairs);
    }
}
