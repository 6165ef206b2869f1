using Evlf.OnnxHybrid.Bundles;
using Evlf.OnnxHybrid.Tests.Cli;

namespace Evlf.OnnxHybrid.Tests.Bundles;

/// <summary>
/// Values that sampling, guidance or the VAE would reject mid-run are refused when the
/// bundle loads, one sentence each, and `evlf inspect BUNDLE` reports them (exit 2).
/// </summary>
public class BundleValueTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-bundle-values-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    string Bundle(Func<BundleManifest, BundleManifest> change) => TinyBundle.Create(Path.Combine(root, Guid.NewGuid().ToString("N")[..8]), change);

    static BundleManifest Dit(BundleManifest m, Func<DenoiserSpec, DenoiserSpec> change) =>
        m with { Denoisers = new() { ["dit"] = change(m.Denoisers["dit"]) } };

    public static TheoryData<string, string> Broken => new()
    {
        { "null-high", "denoisers.dit.null_class is 7, outside the label embedding" },
        { "null-negative", "denoisers.dit.null_class is -1" },
        { "steps-zero", "denoisers.dit.schedule.steps is 0" },
        { "steps-huge", "denoisers.dit.schedule.steps is 2000000000" },
        { "beta-end-one", "beta_end 1.5" },
        { "beta-start-zero", "beta_start 0 " },
        { "image-size", "image.size is 0" },
        { "image-size-huge", "image.size is 100000" },
        { "latent-channels", "latent.channels is 0" },
        { "range", "image.range is [1, -1]" },
        { "empty-input", "denoisers.dit.sample_input is empty" },
        { "empty-class", "classes has an empty or null name" },
    };

    static BundleManifest Break(string kind, BundleManifest m) => kind switch
    {
        "null-high" => Dit(m, d => d with { NullClass = 7 }),
        "null-negative" => Dit(m, d => d with { NullClass = -1 }),
        "steps-zero" => Dit(m, d => d with { Schedule = d.Schedule with { Steps = 0 } }),
        "steps-huge" => Dit(m, d => d with { Schedule = d.Schedule with { Steps = 2_000_000_000 } }),
        "beta-end-one" => Dit(m, d => d with { Schedule = d.Schedule with { BetaEnd = 1.5 } }),
        "beta-start-zero" => Dit(m, d => d with { Schedule = d.Schedule with { BetaStart = 0 } }),
        "image-size" => m with { Image = m.Image with { Size = 0 } },
        "image-size-huge" => m with { Image = m.Image with { Size = 100_000 } },
        "latent-channels" => m with { Latent = m.Latent with { Channels = 0 } },
        "range" => m with { Image = m.Image with { Range = new[] { 1f, -1f } } },
        "empty-input" => Dit(m, d => d with { SampleInput = " " }),
        "empty-class" => m with { Classes = new() { "a", "", "c" } },
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void AValueSamplingWouldRejectIsRefusedAtLoad(string kind, string expected)
    {
        var dir = Bundle(m => Break(kind, m));
        var e = Assert.Throws<UserInputException>(() => ModelBundle.Load(dir));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InspectReportsAnOutOfRangeNullClass()
    {
        var dir = Bundle(m => Dit(m, d => d with { NullClass = 12 }));
        var r = EvlfProcess.Run("inspect", dir);
        var line = EvlfProcess.AssertUserError(r);
        Assert.Contains("null_class is 12", line);
        Assert.Contains("null_class is 12", r.Stdout);  // in the problems list too
    }

    public static TheoryData<string> NullFields => new()
    {
        """ "image": null """,
        """ "vae": null """,
        """ "classes": null """,
        """ "denoisers": { "dit": null } """,
        """ "denoisers": { "dit": { "kind": "dit-class", "file": "dit.onnx", "null_class": 3, "schedule": null } } """,
        """ "image": { "channels": 1, "size": 16, "range": null } """,
        """ "vae": { "encoder": null } """,
    };

    [Theory]
    [MemberData(nameof(NullFields))]
    public void AJsonNullWhereAValueIsNeededIsOneSentence(string field)
    {
        var dir = Bundle(m => m);
        var path = Path.Combine(dir, BundleManifest.FileName);
        // Put the field first: a later duplicate key would win, so strip the original by rewriting the object.
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var patch = System.Text.Json.Nodes.JsonNode.Parse("{" + field + "}")!.AsObject();
        foreach (var (key, value) in patch.ToList())
        {
            patch.Remove(key);
            node[key] = value;
        }
        File.WriteAllText(path, node.ToJsonString());

        var e = Assert.Throws<UserInputException>(() => ModelBundle.Load(dir));
        Assert.StartsWith($"Bundle '{dir}'", e.Message);
        EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir));
    }

    [Fact]
    public void InspectRefusesRandomInputsTooLargeToAllocate()
    {
        var dir = Bundle(m => m);
        var model = Path.Combine(dir, "dit.onnx");
        var line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", model, "--parity", "--batch", "2000000000"));
        Assert.Contains("--batch", line);
        line = EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir, "--parity", "--batch", "2000000000"));
        Assert.Contains("elements", line);
    }
}
