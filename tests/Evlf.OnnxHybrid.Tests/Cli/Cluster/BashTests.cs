using Evlf.Cli.Cluster;

namespace Evlf.OnnxHybrid.Tests.Cli.Cluster;

/// <summary>What <see cref="Bash.Quote"/> writes, bash reads back as the same words.</summary>
public class BashTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("evlf-bash-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [Fact]
    public void BashReadsEveryQuotedWordBackExactly()
    {
        string[] words =
        [
            "plain", "--out", "/shared/runs/x", "", " ", "two words", "it's", "'", "''", "a'b'c", "\"double\"", "$HOME", "${x}", "`id`",
            "$(id)", "back\\slash", "semi;colon", "a|b", "a&b", "*", "?", "[ab]", "~", "~user", "#hash", "new\nline", "tab\there", "!bang",
            "{a,b}", "x=1", "-", "--", "ümlaut ☃", "ok@host:5%", "end\\",
        ];
        var recorder = Shell.ArgumentRecorder(root, "record", Path.Combine(root, "args"));
        var script = Shell.Script(root, "run.sh", $"{Bash.Quote(recorder)} {Bash.Words(words)}\n");
        var r = Shell.Bash(null, script);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(words, Shell.Recorded(Path.Combine(root, "args")));
    }

    [Theory]
    [InlineData("mgd3", "mgd3")]
    [InlineData("/shared/runs/x-1_2.png", "/shared/runs/x-1_2.png")]
    [InlineData("--gres=gpu:1", "--gres=gpu:1")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", @"'it'\''s'")]
    [InlineData("", "''")]
    public void OnlyWordsBashWouldReadOtherwiseAreQuoted(string word, string quoted) => Assert.Equal(quoted, Bash.Quote(word));
}
