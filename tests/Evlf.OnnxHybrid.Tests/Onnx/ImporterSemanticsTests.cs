using System.Text.RegularExpressions;
using Evlf.OnnxHybrid.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DT = Onnx.TensorProto.Types.DataType;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>Train/eval semantics, trainable selection, write-back and error reporting of the importer.</summary>
public class ImporterSemanticsTests
{
    [Fact]
    public void BatchNormUpdatesRunningStatisticsOnlyInTrainMode()
    {
        using var scope = NewDisposeScope();
        var fx = new Fixture("bn_dropout");
        using var module = OnnxTorchModule.Load(fx.ModelPath);
        var x = fx.Inputs()["x"];
        var before = module.get_buffer("bn1.running_mean")!.clone();
        var beforeVar = module.get_buffer("bn1.running_var")!.clone();
        Assert.False(module.get_parameter("bn1.weight") is null);
        Assert.Null(module.get_parameter("bn1.running_mean"));

        module.eval();
        using (no_grad()) module.Run(x);
        Assert.True(before.allclose(module.get_buffer("bn1.running_mean")!, rtol: 0, atol: 0));

        module.train();
        using (no_grad()) module.Run(x);
        // Independent reference: the first conv's output statistics, blended with ONNX momentum 0.9 (torch's 0.1).
        var w = module.get_parameter("conv1.weight")!;
        var b = module.get_parameter("conv1.bias")!;
        var conv = nn.functional.conv2d(x, w, b, padding: new long[] { 1, 1 });
        var batchMean = conv.mean(new long[] { 0, 2, 3 });
        var batchVar = conv.var(new long[] { 0, 2, 3 }, unbiased: true);
        var expectedMean = before * 0.9f + batchMean * 0.1f;
        var expectedVar = beforeVar * 0.9f + batchVar * 0.1f;
        Assert.True(expectedMean.allclose(module.get_buffer("bn1.running_mean")!, rtol: 1e-4, atol: 1e-5));
        Assert.True(expectedVar.allclose(module.get_buffer("bn1.running_var")!, rtol: 1e-4, atol: 1e-5));
    }

    static OnnxModel DropoutGraph(float ratio)
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Float, -1, 1000);
        var y = g.Node("Dropout", new[] { x, g.Initializer("const/ratio", tensor(ratio)) });
        g.Output(y);
        return g.Build();
    }

    [Fact]
    public void DropoutIsActiveInTrainModeAndIdentityInEval()
    {
        using var scope = NewDisposeScope();
        using var module = OnnxTorchModule.FromModel(DropoutGraph(0.25f));
        var x = ones(4, 1000);
        module.eval();
        Assert.True(module.Run(x)[0].allclose(x, rtol: 0, atol: 0));
        module.train();
        var y = module.Run(x)[0];
        double zeroFraction = y.eq(0).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(zeroFraction, 0.22, 0.28);
        var kept = y.masked_select(y.ne(0));
        Assert.True(kept.allclose(full_like(kept, 1 / 0.75f)));
    }

    [Fact]
    public void TrainableSubsetIsChosenByNamePattern()
    {
        using var scope = NewDisposeScope();
        var fx = new Fixture("dit");
        using var all = OnnxTorchModule.Load(fx.ModelPath);
        using var some = OnnxTorchModule.Load(fx.ModelPath, new ImportOptions(new Regex(@"^(y_embedder|final_layer)\.")));
        var trainable = some.TrainableParameters.Select(p => p.Name).ToList();
        Assert.NotEmpty(trainable);
        Assert.All(trainable, n => Assert.Matches(@"^(y_embedder|final_layer)\.", n));
        Assert.True(all.TrainableParameters.Count() > trainable.Count);
        // Frozen weights get no gradient; trainable ones do.
        var outputs = some.forward(fx.Inputs());
        outputs.Values.First().sum().backward();
        Assert.All(some.TrainableParameters, p => Assert.NotNull(p.Parameter.grad));
        Assert.All(some.parameters().Where(p => !p.requires_grad), p => Assert.Null(p.grad));
    }

    [Theory]
    [InlineData("bn_dropout")]
    [InlineData("external_data")]
    public void WriteBackCarriesTrainedWeightsIntoOnnxRuntime(string name)
    {
        using var scope = NewDisposeScope();
        var fx = new Fixture(name);
        var dir = Directory.CreateTempSubdirectory("evlf-writeback-").FullName;
        try
        {
            using var module = OnnxTorchModule.Load(fx.ModelPath);
            var inputs = fx.Inputs();
            var optimizer = optim.SGD(module.parameters(), 0.1);
            module.train();
            for (int i = 0; i < 3; i++)
            {
                optimizer.zero_grad();
                module.forward(inputs).Values.First().pow(2).mean().backward();
                optimizer.step();
            }
            module.eval();
            Tensor trained;
            using (no_grad()) trained = module.forward(inputs).Values.First();
            string saved = Path.Combine(dir, "trained.onnx");
            module.Save(saved);

            using var session = OnnxSession.Open(saved, new SessionSettings(ExecutionDevice.Cpu));
            var ort = session.Run(inputs).Values.First();
            Assert.True((ort - trained).abs().max().item<float>() < 1e-4, "ONNX Runtime does not see the trained weights");
            var original = fx.Outputs().Values.First();
            Assert.True((ort - original).abs().max().item<float>() > 1e-3, "training changed nothing, so the round trip proves nothing");

            var reloaded = OnnxModel.Load(saved);
            var source = fx.Load();
            Assert.Equal(source.Graph.Node.Count, reloaded.Graph.Node.Count);
            Assert.Equal(source.ExternalLocations.Keys.OrderBy(k => k), reloaded.ExternalLocations.Keys.OrderBy(k => k));
            if (name == "external_data")
            {
                Assert.NotEmpty(reloaded.ExternalLocations);
                Assert.True(File.Exists(Path.Combine(dir, "model.onnx.data")));
            }
            else
            {
                // Running statistics were updated in train mode and written back too.
                var mean = reloaded.Graph.Initializer.Single(t => t.Name == "bn1.running_mean");
                var oldMean = source.Graph.Initializer.Single(t => t.Name == "bn1.running_mean");
                Assert.NotEqual(OnnxTensor.ToFloats(oldMean), OnnxTensor.ToFloats(mean));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnsupportedOpNamesTheOpAndTheNode()
    {
        var g = new OpGraph();
        var x = g.Input("x", DT.Float, 2);
        var y = g.Node("FancyOp", new[] { x });
        g.Output(y);
        var e = Assert.Throws<UserInputException>(() => OnnxTorchModule.FromModel(g.Build()));
        Assert.Contains("'FancyOp'", e.Message);
        Assert.Contains("FancyOp_0", e.Message);
    }

    [Fact]
    public void BadModelFilesAreOneClearSentence()
    {
        var dir = Directory.CreateTempSubdirectory("evlf-bad-").FullName;
        try
        {
            string missing = Path.Combine(dir, "missing.onnx");
            Assert.Contains("was not found", Assert.Throws<UserInputException>(() => OnnxModel.Load(missing)).Message);

            string empty = Path.Combine(dir, "empty.onnx");
            File.WriteAllBytes(empty, Array.Empty<byte>());
            Assert.Contains("is empty", Assert.Throws<UserInputException>(() => OnnxModel.Load(empty)).Message);

            string truncated = Path.Combine(dir, "truncated.onnx");
            var bytes = File.ReadAllBytes(new Fixture("dit").ModelPath);
            File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
            Assert.Contains("truncated", Assert.Throws<UserInputException>(() => OnnxModel.Load(truncated)).Message);

            string text = Path.Combine(dir, "notes.onnx");
            File.WriteAllText(text, "this is not a model\n");
            var m = Assert.Throws<UserInputException>(() => OnnxModel.Load(text)).Message;
            Assert.Contains(text, m);

            Assert.Contains("is a folder", Assert.Throws<UserInputException>(() => OnnxModel.Load(dir)).Message);

            string brokenExternal = Path.Combine(dir, "ext");
            Directory.CreateDirectory(brokenExternal);
            File.Copy(new Fixture("external_data").ModelPath, Path.Combine(brokenExternal, "model.onnx"));
            var ext = Assert.Throws<UserInputException>(() => OnnxModel.Load(Path.Combine(brokenExternal, "model.onnx"))).Message;
            Assert.Contains("external data file", ext);
        }
        finally { Directory.Delete(dir, true); }
    }
}
