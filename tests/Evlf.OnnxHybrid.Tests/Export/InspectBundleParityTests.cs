using System.Globalization;
using Evlf.OnnxHybrid.Tests.Cli;

namespace Evlf.OnnxHybrid.Tests.Export;

/// <summary>`evlf inspect --parity BUNDLE_DIR` on the bundles tools/export wrote, run as a user would.</summary>
public class InspectBundleParityTests
{
    public static IEnumerable<object[]> Bundles => ExportedBundle.Names.Select(n => new object[] { n });

    /// <summary>(component, value) of every "COMPONENT: KIND: VALUE  output=…" line whose KIND ends in max_abs_diff.</summary>
    static List<(string Component, string Kind, double Value, string Output)> DiffLines(string stdout) =>
        stdout.Split('\n')
            .Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 4 && p[0].EndsWith(':') && p[1].EndsWith("max_abs_diff:", StringComparison.Ordinal))
            .Select(p => (p[0].TrimEnd(':'), p[1].TrimEnd(':'), double.Parse(p[2], CultureInfo.InvariantCulture), p[3]))
            .ToList();

    [Theory]
    [MemberData(nameof(Bundles))]
    public void ParityOnABundleChecksEveryComponentOutputAgainstTheImporterAndPyTorch(string name)
    {
        var fx = new ExportedBundle(name);
        var r = EvlfProcess.Run("inspect", fx.Directory, "--parity");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.Contains("no problems found", r.Stdout);   // the bundle description and problem listing still come first
        Assert.Contains("component", r.Stdout);

        var lines = DiffLines(r.Stdout);
        var expected = fx.Components.SelectMany(c => fx.Outputs(c.Key).Keys.Select(o => (c.Key, o))).OrderBy(x => x).ToList();
        var importer = lines.Where(l => l.Kind == "max_abs_diff").Select(l => (l.Component, l.Output["output=".Length..])).OrderBy(x => x).ToList();
        var pytorch = lines.Where(l => l.Kind == "pytorch_max_abs_diff").Select(l => (l.Component, l.Output["output=".Length..])).OrderBy(x => x).ToList();
        Assert.Equal(expected, importer);   // one line per output of every component, prefixed by the component
        Assert.Equal(expected, pytorch);
        foreach (var l in lines)
            Assert.True(l.Value is >= 0 and <= 1e-4, $"{name}: {l.Component} {l.Output}: {l.Kind} {l.Value:E2}");
        Assert.Contains("random inputs (seed 0)", r.Stdout);

        // Random inputs take the bundle's sizes (batch 2): images at image.size, latents at latent.size, 77 tokens.
        var m = Evlf.OnnxHybrid.Bundles.ModelBundle.Load(fx.Directory).Manifest;
        var shapes = r.Stdout.Split('\n').Where(l => l.Contains(": max_abs_diff:")).Select(l => l.Split("shape=")[1].Split(' ')[0]).ToList();
        Assert.Contains($"[2,{m.Image.Channels},{m.Image.Size},{m.Image.Size}]", shapes);
        Assert.Contains($"[2,{m.Latent.Channels},{m.Latent.Size},{m.Latent.Size}]", shapes);
        if (m.TextEncoder is not null) Assert.Contains($"[2,77,{m.TextEncoder.HiddenSize}]", shapes);
    }

    [Fact]
    public void ABrokenBundleIsExitTwoBeforeAnyParity()
    {
        var dir = Directory.CreateTempSubdirectory("evlf-export-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(new ExportedBundle("dit-tiny").Directory))
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            File.Delete(Path.Combine(dir, "vae_decoder.onnx"));
            var r = EvlfProcess.Run("inspect", dir, "--parity");
            Assert.Contains("vae_decoder.onnx", EvlfProcess.AssertUserError(r));
            Assert.DoesNotContain("max_abs_diff", r.Stdout);
            Assert.Contains("--train-check", EvlfProcess.AssertUserError(EvlfProcess.Run("inspect", dir, "--train-check")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
