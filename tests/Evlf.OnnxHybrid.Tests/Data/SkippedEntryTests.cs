using Evlf.OnnxHybrid.Data;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>The one warning line about entries a reader passed over.</summary>
public class SkippedEntryTests
{
    [Fact]
    public void OneEntryReadsAsOneImage()
    {
        var line = SkippedEntry.Summary("folder:d", [new("train/a/x.gif", "not an image")]);
        Assert.Equal("folder:d: skipped 1 entry that is not a usable image: 'train/a/x.gif' (not an image).", line);
    }

    [Fact]
    public void ManyEntriesNameTheFirstFewAndCountTheRest()
    {
        var skipped = Enumerable.Range(0, SkippedEntry.Named + 3).Select(i => new SkippedEntry($"f{i}", "hidden")).ToList();
        var line = SkippedEntry.Summary("folder:d", skipped);
        Assert.StartsWith($"folder:d: skipped {skipped.Count} entries that are not usable images: 'f0' (hidden)", line);
        Assert.Contains($"'f{SkippedEntry.Named - 1}'", line);
        Assert.DoesNotContain($"'f{SkippedEntry.Named}'", line);
        Assert.EndsWith(" and 3 more.", line);
        Assert.DoesNotContain("\n", line);
    }
}
