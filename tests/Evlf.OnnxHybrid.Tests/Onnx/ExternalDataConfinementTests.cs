using Evlf.OnnxHybrid.Onnx;
using Google.Protobuf;
using Onnx;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>External-data files an ONNX model names are read (and written back) only inside its folder.</summary>
public class ExternalDataConfinementTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-extdata-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static string FixtureFolder => Path.GetDirectoryName(new Fixture("external_data").ModelPath)!;

    /// <summary>The external_data fixture copied to <paramref name="folder"/>, every external location renamed to <paramref name="location"/>.</summary>
    static string CopyWithLocation(string folder, string location)
    {
        Directory.CreateDirectory(folder);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new Fixture("external_data").ModelPath));
        foreach (var t in proto.Graph.Initializer)
            foreach (var kv in t.ExternalData)
                if (kv.Key == "location") kv.Value = location;
        var path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }

    public static TheoryData<string> Spellings => new() { "dotdot", "absolute", "link", "dirlink" };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void AnExternalFileOutsideTheModelFolderIsRefused(string kind)
    {
        var outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
        File.Copy(Path.Combine(FixtureFolder, "model.onnx.data"), Path.Combine(outside, "weights.data"));
        var modelDir = Path.Combine(root, "model");
        Directory.CreateDirectory(modelDir);
        string location = kind switch
        {
            "dotdot" => "../outside/weights.data",
            "absolute" => Path.Combine(outside, "weights.data"),
            "link" => "weights.data",
            _ => "sub/weights.data",
        };
        if (kind == "link") File.CreateSymbolicLink(Path.Combine(modelDir, "weights.data"), Path.Combine(outside, "weights.data"));
        if (kind == "dirlink") Directory.CreateSymbolicLink(Path.Combine(modelDir, "sub"), outside);
        var path = CopyWithLocation(modelDir, location);

        var e = Assert.Throws<UserInputException>(() => OnnxModel.Load(path));
        Assert.Contains("external file", e.Message);
        Assert.Contains(kind == "absolute" ? "absolute path" : "outside", e.Message);
        Assert.Throws<UserInputException>(() => OnnxTorchModule.Load(path));
        Assert.Throws<UserInputException>(() => OnnxSession.Open(path));
    }

    [Fact]
    public void AnExternalFileInsideTheModelFolderStillLoads()
    {
        var modelDir = Path.Combine(root, "model");
        Directory.CreateDirectory(Path.Combine(modelDir, "weights"));
        File.Copy(Path.Combine(FixtureFolder, "model.onnx.data"), Path.Combine(modelDir, "weights", "w.data"));
        var model = OnnxModel.Load(CopyWithLocation(modelDir, "weights/w.data"));
        Assert.All(model.ExternalLocations.Values, l => Assert.Equal("weights/w.data", l));
    }

    [Fact]
    public void WriteBackDoesNotFollowAFolderLinkOutOfTheTarget()
    {
        var source = Path.Combine(root, "source");
        Directory.CreateDirectory(Path.Combine(source, "weights"));
        File.Copy(Path.Combine(FixtureFolder, "model.onnx.data"), Path.Combine(source, "weights", "w.data"));
        var model = OnnxModel.Load(CopyWithLocation(source, "weights/w.data"));

        var outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
        var target = Directory.CreateDirectory(Path.Combine(root, "target")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(target, "weights"), outside);
        var e = Assert.Throws<UserInputException>(() => model.Save(Path.Combine(target, "model.onnx")));
        Assert.Contains("outside", e.Message);
        Assert.Empty(Directory.GetFiles(outside));
    }

    [Theory]
    [InlineData("offset", "-1")]
    [InlineData("offset", "12x")]
    [InlineData("offset", "99999999999999999999")]
    [InlineData("length", "9223372036854775807")]
    public void MalformedOffsetsAndLengthsAreUserErrors(string key, string value)
    {
        var dir = Path.Combine(root, "m");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(FixtureFolder, "model.onnx.data"), Path.Combine(dir, "model.onnx.data"));
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(new Fixture("external_data").ModelPath));
        var t = proto.Graph.Initializer.First(t => t.DataLocation == TensorProto.Types.DataLocation.External);
        t.ExternalData.Remove(t.ExternalData.FirstOrDefault(kv => kv.Key == key) ?? new StringStringEntryProto());
        t.ExternalData.Add(new StringStringEntryProto { Key = key, Value = value });
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        Assert.Throws<UserInputException>(() => OnnxModel.Load(path));
    }
}
