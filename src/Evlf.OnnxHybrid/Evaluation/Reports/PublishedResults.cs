namespace Evlf.OnnxHybrid.Evaluation.Reports;

/// <summary>A published result: test accuracy (percent, as printed in the source) by images per class.</summary>
internal sealed record PublishedResult(string Method, IReadOnlyDictionary<int, string> ByIpc, string Source);

/// <summary>
/// Published Fashion-MNIST accuracies for ConvNet-3 under the DC/DSA protocol, from the papers given per row (as the
/// DC/DSA line of work reports them). No generative (diffusion-based) method reports Fashion-MNIST.
/// </summary>
internal static class PublishedResults
{
    public static IReadOnlyList<PublishedResult> FashionMnist { get; } =
    [
        new("Random real subset", Ipcs("51.4 ± 3.8", "73.8 ± 0.7", "82.5 ± 0.7"), "DC/DSA Table 1 (as commonly cited; not re-checked)"),
        new("Herding", Ipcs("67.0 ± 1.9", "71.1 ± 0.7", "71.9 ± 0.8"), "DC/DSA Table 1 (as commonly cited)"),
        new("DC", Ipcs("70.5 ± 0.6", "82.3 ± 0.4", "83.6 ± 0.4"), "DatasetCondensation readme; KIP-ConvNet Table 1"),
        new("DSA", Ipcs("70.6 ± 0.6", "84.6 ± 0.3", "88.7 ± 0.2"), "DatasetCondensation readme; KIP-ConvNet Table 1"),
        new("KIP (trained ConvNet)", Ipcs("73.8", "86.8", "87.8"), "KIP-ConvNet Table 2"),
        new("IDC", Ipcs("81.0", "86.0", "86.2"), "Efficient-Dataset-Condensation readme"),
        new("FreD (trajectory matching)", Ipcs("84.6", "89.1", null), "FreD readme"),
    ];

    /// <summary>Whole training set, ConvNet-3 (DC/DSA; trained differently: Adam and a schedule).</summary>
    public const string FashionMnistWholeSet = "93.5 ± 0.1";

    static Dictionary<int, string> Ipcs(string ipc1, string ipc10, string? ipc50)
    {
        var d = new Dictionary<int, string> { [1] = ipc1, [10] = ipc10 };
        if (ipc50 is not null) d[50] = ipc50;
        return d;
    }
}
