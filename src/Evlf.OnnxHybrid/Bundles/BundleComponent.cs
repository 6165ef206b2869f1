using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Bundles;

/// <summary>One ONNX file of a bundle, with the sizes the bundle gives its inputs (null: free, e.g. the batch).</summary>
public sealed record BundleComponent(string Name, string Path, IReadOnlyDictionary<string, long?[]> InputSizes)
{
    /// <summary>Every ONNX component of a bundle: VAE encoder and decoder, each denoiser, the text encoder.</summary>
    public static List<BundleComponent> All(ModelBundle bundle)
    {
        var m = bundle.Manifest;
        long? sequence = m.TextEncoder?.Tokenizer.ResolvedMaxLength;
        var list = new List<BundleComponent>
        {
            new("vae_encoder", bundle.PathOf(m.Vae.Encoder), new Dictionary<string, long?[]> { [m.Vae.EncoderInput] = new long?[] { null, m.Image.Channels, m.Image.Size, m.Image.Size } }),
            new("vae_decoder", bundle.PathOf(m.Vae.Decoder), new Dictionary<string, long?[]> { [m.Vae.DecoderInput] = new long?[] { null, m.Latent.Channels, m.Latent.Size, m.Latent.Size } }),
        };
        foreach (var (name, d) in m.Denoisers)
        {
            var sizes = bundle.DenoiserSignature(d).Inputs.ToDictionary(i => i.Name, i => i.Dims?.ToArray() ?? new long?[i.Rank]);
            if (d.Kind == DenoiserSpec.UNetText && sizes[d.ConditionInput].Length == 3) sizes[d.ConditionInput][1] = sequence;  // context tokens
            list.Add(new(name, bundle.PathOf(d.File), sizes));
        }
        if (m.TextEncoder is { } te)
        {
            string path = te.Model == MiniLmResources.Builtin
                ? MiniLmResources.Ensure().ModelPath
                : ConfinedPath.Resolve(bundle.Directory, te.Model, "text_encoder.model");
            var sizes = new[] { te.InputIdsName, te.AttentionMaskName, te.TokenTypeIdsName }.OfType<string>()
                .ToDictionary(n => n, _ => new long?[] { null, sequence });
            list.Add(new("text_encoder", path, sizes));
        }
        return list;
    }

    /// <summary>Names the free dimensions of <paramref name="model"/>'s inputs with the bundle's sizes; <paramref name="user"/>'s sizes win.</summary>
    public Dictionary<string, long> DimsFor(OnnxModel model, IReadOnlyDictionary<string, long> user)
    {
        var dims = new Dictionary<string, long>();
        foreach (var input in model.Graph.Input)
        {
            if (!InputSizes.TryGetValue(input.Name, out var sizes) || input.Type?.TensorType?.Shape is not { } shape) continue;
            for (int axis = 1; axis < shape.Dim.Count && axis < sizes.Length; axis++)
                if (shape.Dim[axis].DimParam is { Length: > 0 } param && sizes[axis] is long size)
                    dims.TryAdd(param, size);
        }
        foreach (var (name, value) in user) dims[name] = value;
        return dims;
    }
}
