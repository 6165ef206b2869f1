using Evlf.Bench.Benchmarks;
using Evlf.OnnxHybrid.Models;

namespace Evlf.OnnxHybrid.Tests.Bench;

/// <summary>The network benchmark's machinery on its in-process UNet (nothing about speed is asserted).</summary>
public class NetworkBenchmarkTests
{
    [Fact]
    public void TheSmallUNetHasTheFixturesInterfaceAndSize()
    {
        var model = NetworkBenchmark.SmallUNet();
        var inputs = model.Graph.Input.ToDictionary(i => i.Name, i => i.Type.TensorType.Shape.Dim.Select(d => d.DimParam is { Length: > 0 } p ? p : d.DimValue.ToString()).ToArray());

        Assert.Equal(["batch", "4", "8", "8"], inputs[TextUNet.SampleInput]);
        Assert.Equal(["batch"], inputs[TextUNet.TimestepInput]);
        Assert.Equal(["batch", "7", "32"], inputs[TextUNet.ContextInput]);
        Assert.Equal([8, 4, 3, 3], model.Graph.Initializer.Single(t => t.Name == "conv_in.weight").Dims.ToArray());
    }

    [Fact]
    public void MeasureTimesBothExecutorsOnTheSameGraph()
    {
        var row = NetworkBenchmark.Measure("unet small", NetworkBenchmark.SmallUNet(), batch: 2, threads: 1, runs: 1);

        Assert.Equal(("unet small", 2), (row.Network, row.Batch));
        Assert.True(row.OrtMs > 0 && row.ImporterMs > 0, $"{row}");
        Assert.True(row.RuntimeNodes > 0);
    }
}
