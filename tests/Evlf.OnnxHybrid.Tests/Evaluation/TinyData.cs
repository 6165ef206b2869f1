using Evlf.OnnxHybrid.Data;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Tests.Evaluation;

/// <summary>Small labelled datasets for the evaluation tests.</summary>
internal static class TinyData
{
    /// <summary>Real Fashion-MNIST, opened once per test run (the tests fail, not skip, where it is missing).</summary>
    public static ImageDataset FashionMnist => fashion.Value;

    private static readonly Lazy<ImageDataset> fashion = new(() => global::Evlf.OnnxHybrid.Data.FashionMnist.Open());

    /// <summary>
    /// Three classes of 12×12 gray images told apart by where a bright bar lies (left column band, top row band,
    /// diagonal), plus seeded noise; <paramref name="perClass"/> train and test images per class.
    /// </summary>
    public static ImageDataset Bars(int perClass, int seed = 0, string[]? classNames = null)
    {
        var random = new Random(seed);
        DatasetSplit Split(string name, int count)
        {
            const int size = 12;
            var pixels = new byte[3 * count * size * size];
            var labels = new int[3 * count];
            for (int n = 0; n < labels.Length; n++)
            {
                int label = n % 3;
                labels[n] = label;
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        bool bar = label switch { 0 => x is >= 2 and < 5, 1 => y is >= 2 and < 5, _ => Math.Abs(x - y) < 2 };
                        int v = (bar ? 200 : 40) + random.Next(-30, 31);
                        pixels[(n * size + y) * size + x] = (byte)Math.Clamp(v, 0, 255);
                    }
            }
            return new InMemorySplit(name, pixels, labels, size, size, 1, $"bars-{name}");
        }
        return new ImageDataset("bars", classNames ?? ["left", "top", "diagonal"], Split("train", perClass), Split("test", perClass));
    }

    /// <summary>Writes the first <paramref name="perClass"/> training images of each class of <paramref name="data"/> as a synthetic set.</summary>
    public static void WriteSet(ImageDataset data, string root, int perClass, System.Text.Json.Nodes.JsonObject? manifest = null, IReadOnlyList<string>? classNames = null)
    {
        using var w = SyntheticSetWriter.Create(root, classNames ?? data.ClassNames, data.Channels);
        var taken = new int[data.ClassCount];
        for (int i = 0; i < data.Train.Count; i++)
        {
            int label = data.Train.LabelOf(i);
            if (taken[label]++ < perClass) w.Add(label, data.Train.Load(i));
        }
        w.Commit(manifest);
    }

    /// <summary>True when the tensors have the same shape and elements.</summary>
    public static bool Same(this Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var e = a.eq(b).all();
        return e.item<bool>();
    }
}
