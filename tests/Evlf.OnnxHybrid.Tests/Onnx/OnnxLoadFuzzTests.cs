using Evlf.OnnxHybrid.Onnx;
using Evlf.OnnxHybrid.Tests.Data;
using Google.Protobuf;
using Onnx;

namespace Evlf.OnnxHybrid.Tests.Onnx;

/// <summary>
/// Seeded mutations of small valid ONNX files (bytes, and tensor fields: huge or negative
/// dimensions, external-data locations, offsets and lengths) load or give a <see cref="UserInputException"/>.
/// </summary>
public class OnnxLoadFuzzTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-onnx-fuzz-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static readonly string[] Locations = ["model.onnx.data", "../model.onnx.data", "/etc/hostname", "", "missing.data", "sub/../model.onnx.data", "model.onnx"];
    static readonly string[] Numbers = ["0", "-1", "4096", "9223372036854775807", "99999999999999999999", "x", "3232", ""];
    static readonly long[] Dims = [0, -1, 1, 3, 1L << 31, 1L << 40, long.MaxValue];

    [Fact]
    public void MutatedModelsLoadOrAreOneSentence()
    {
        var fixture = Path.GetDirectoryName(new Fixture("external_data").ModelPath)!;
        File.Copy(Path.Combine(fixture, "model.onnx.data"), Path.Combine(root, "model.onnx.data"));
        var sources = new[] { File.ReadAllBytes(new Fixture("external_data").ModelPath), File.ReadAllBytes(new Fixture("bn_dropout").ModelPath) };
        var random = new Random(16);
        int caught = 0;
        const int cases = 300;
        for (int i = 0; i < cases; i++)
        {
            var source = sources[i % 2];
            var bytes = i % 3 == 0 ? MutateTensor(source, random) : Fuzz.Mutate(source, random, 64);
            var path = Path.Combine(root, "model.onnx");
            File.WriteAllBytes(path, bytes);
            if (Fuzz.Check("ONNX load", i, () => OnnxModel.Load(path))) caught++;
        }
        Assert.True(caught > cases / 4, $"only {caught} of {cases} mutated models were refused");
    }

    /// <summary>One tensor of the model with a dimension, its storage or an external-data entry made hostile.</summary>
    static byte[] MutateTensor(byte[] valid, Random random)
    {
        var proto = ModelProto.Parser.ParseFrom(valid);
        var tensors = OnnxModel.AllTensors(proto.Graph).ToList();
        var t = tensors[random.Next(tensors.Count)];
        switch (random.Next(4))
        {
            case 0:
                if (t.Dims.Count > 0) t.Dims[random.Next(t.Dims.Count)] = Dims[random.Next(Dims.Length)];
                else t.Dims.Add(Dims[random.Next(Dims.Length)]);
                break;
            case 1:
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.ExternalData.Clear();
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = Locations[random.Next(Locations.Length)] });
                if (random.Next(2) == 0) t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = Numbers[random.Next(Numbers.Length)] });
                if (random.Next(2) == 0) t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = Numbers[random.Next(Numbers.Length)] });
                break;
            case 2:
                t.DataType = random.Next(-2, 25);
                break;
            default:
                t.RawData = ByteString.CopyFrom(new byte[random.Next(9)]);
                break;
        }
        return proto.ToByteArray();
    }
}
