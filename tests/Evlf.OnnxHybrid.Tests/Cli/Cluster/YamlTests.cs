using Evlf.Cli.Cluster;
using YamlDotNet.RepresentationModel;

namespace Evlf.OnnxHybrid.Tests.Cli.Cluster;

/// <summary>What <see cref="Yaml.Quote"/> writes, a YAML reader (YamlDotNet, as KubernetesClient uses it) reads back as the same string.</summary>
public class YamlTests
{
    [Fact]
    public void AYamlReaderReadsEveryQuotedScalarBackExactly()
    {
        string[] texts =
        [
            "plain", "", " lead and trail ", "it's", "\"double\"", "back\\slash", "new\nline", "tab\t", "\r", "#hash", "- dash", "key: value",
            "[list]", "{map}", "*anchor", "&ref", "!tag", "%directive", "@at", "`tick`", "yes", "no", "null", "~", "1", "0x10", "1e3", ".inf",
            "ümlaut ☃", "emoji 😀", "\u0085next", "\u2028line", "\u2029para", "\ufeffbom", "\u007fdel", "\u0000nul",
        ];
        var yaml = "items:\n" + string.Concat(texts.Select(t => $"  - {Yaml.Quote(t)}\n")) + "list: " + Yaml.List(texts) + "\n";
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents.Single().RootNode;
        foreach (var key in new[] { "items", "list" })
        {
            var items = (YamlSequenceNode)root.Children[new YamlScalarNode(key)];
            Assert.Equal(texts, items.Children.Select(n => ((YamlScalarNode)n).Value));
            Assert.All(items.Children, n => Assert.Equal(YamlDotNet.Core.ScalarStyle.DoubleQuoted, ((YamlScalarNode)n).Style));
        }
    }
}
