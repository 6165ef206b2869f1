using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;

namespace Evlf.Bench;

/// <summary>
/// What every benchmark of one `evlf bench` run shares: the options, libtorch's thread count, the report being
/// built, where to print, the bundle (opened once, when a benchmark first asks) and how to start this evlf again.
/// </summary>
public sealed class BenchContext
{
    readonly Lazy<ModelBundle?> bundle;

    /// <param name="startEvlf">A fresh start of the evlf program running the bench, without arguments (the distill benchmark adds them).</param>
    public BenchContext(BenchOptions options, IBenchOutput output, int threads, JsonObject report, Func<ProcessStartInfo> startEvlf,
        CancellationToken cancellationToken = default)
    {
        Options = options;
        Output = output;
        Threads = threads;
        Report = report;
        StartEvlf = startEvlf;
        CancellationToken = cancellationToken;
        bundle = new(() => Directory.Exists(options.Bundle) ? ModelBundle.Load(options.Bundle) : null);
    }

    public BenchOptions Options { get; }
    public IBenchOutput Output { get; }
    public JsonObject Report { get; }
    public Func<ProcessStartInfo> StartEvlf { get; }
    public CancellationToken CancellationToken { get; }

    /// <summary>libtorch's intra-op threads, also given to ONNX Runtime and the PyTorch twins so every side runs on the same cores.</summary>
    public int Threads { get; }

    /// <summary>The bundle of <see cref="BenchOptions.Bundle"/>; null when that folder does not exist.</summary>
    public ModelBundle? Bundle => bundle.Value;

    /// <summary>A figure as the tables print it: up to three decimals, invariant culture.</summary>
    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
