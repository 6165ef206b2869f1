using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Data;
using Evlf.OnnxHybrid.Distillation;
using Evlf.OnnxHybrid.Tests.Bundles;

namespace Evlf.OnnxHybrid.Tests.Distillation;

/// <summary>
/// A dataset and a bundle passed to the pipeline already opened (<see cref="DistillationPipeline.Dataset"/>,
/// <see cref="DistillationPipeline.Bundle"/>) give the run of their paths; a dataset built in memory is known by its content.
/// </summary>
public sealed class OpenedInputsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-opened-").FullName;
    readonly string bundle;
    readonly string data;

    public OpenedInputsTests()
    {
        bundle = TinyBundle.Create(Path.Combine(root, "bundle"));
        data = "folder:" + TinyBundle.Dataset(Path.Combine(root, "data"), perClass: 4);
    }

    public void Dispose() => Directory.Delete(root, true);

    DistillOptions Options(DistillMethod method, string name) => new()
    {
        Data = data, Bundle = bundle, Method = method, Evlf = false, Ipc = 2, Seed = 3, Steps = 3,
        Out = Path.Combine(root, name), Device = Evlf.OnnxHybrid.Onnx.ExecutionDevice.Cpu,
    };

    static string[] Keys(DistillResult r) => [.. r.Manifest["stages"]!.AsArray().Select(s => $"{s!["stage"]} {s["key"]}")];

    static byte[][] Images(DistillResult r) =>
        [.. Directory.GetFiles(Path.Combine(r.Out, "images"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    [Fact]
    public void An_opened_dataset_and_bundle_give_the_run_of_their_paths()
    {
        var byPath = new DistillationPipeline(Options(DistillMethod.Dit, "by-path")).Run();

        var loaded = ModelBundle.Load(bundle);
        var dataset = DataSpec.Open(data, new DatasetOptions(Channels: loaded.Manifest.Image.Channels));
        // The options' own data and bundle are not read when the opened ones are given.
        var opened = new DistillationPipeline(Options(DistillMethod.Dit, "opened") with { Data = "idx:/nowhere", Bundle = "/nowhere" })
        {
            Dataset = dataset, Bundle = loaded,
        }.Run();

        Assert.Equal(6, opened.Images);
        Assert.Equal(Keys(byPath), Keys(opened));
        Assert.Equal(Images(byPath), Images(opened));
        Assert.Equal(byPath.Manifest["data"]!.ToJsonString(), opened.Manifest["data"]!.ToJsonString());
        Assert.Equal(data, opened.Manifest["data"]!["spec"]!.GetValue<string>());
        Assert.Equal(loaded.Directory, opened.Manifest["bundle"]!["path"]!.GetValue<string>());
        // The identity under the dataset's own spec is the one the path gives.
        Assert.Equal(DataIdentity.Of(data, dataset), DataIdentity.Of(dataset));
    }

    ImageDataset InMemory(byte change = 0)
    {
        var folder = DataSpec.Open(data);
        var first = folder.Train.Load(0);
        var pixels = new List<byte>();
        for (int i = 0; i < folder.Train.Count; i++) pixels.AddRange(folder.Train.Load(i).Pixels);
        var bytes = pixels.ToArray();
        bytes[0] ^= change;
        var train = new InMemorySplit("train", bytes, folder.Train.Labels(), first.Height, first.Width, first.Channels, "mine");
        return new ImageDataset("mine", folder.ClassNames, train, DatasetSplit.Empty("test", first.Channels));
    }

    [Fact]
    public void A_dataset_built_in_memory_is_known_by_its_content()
    {
        Assert.Null(InMemory().Spec);
        Assert.NotNull(DataSpec.Open(data).Spec);
        Assert.Equal(DataIdentity.Of(InMemory()), DataIdentity.Of(InMemory()));
        Assert.NotEqual(DataIdentity.Of(InMemory()), DataIdentity.Of(InMemory(change: 1)));

        // Herding normalises with statistics measured on the data, as for any dataset without published constants.
        var a = new DistillationPipeline(Options(DistillMethod.Herding, "memory-a")) { Dataset = InMemory() }.Run();
        var b = new DistillationPipeline(Options(DistillMethod.Herding, "memory-b")) { Dataset = InMemory() }.Run();
        Assert.Equal(6, a.Images);
        Assert.Equal(Keys(a), Keys(b));
        Assert.Equal(Images(a), Images(b));
        var record = a.Manifest["data"]!;
        Assert.Null(record["spec"]);
        Assert.Equal("mine", record["name"]!.GetValue<string>());
        Assert.Equal(DataIdentity.Of(InMemory()), record["id"]!.GetValue<string>());
    }
}
