using System.Text;

namespace Evlf.OnnxHybrid.Tests.Compat;

/// <summary>The sentence a GCC-12-era libstdc++ gets instead of TorchSharp's "missing libtorch package" page, and how it is recognised.</summary>
public class TorchSharpLoaderTests
{
    [Fact]
    public void MessageNamesTheVersionFoundTheVersionNeededAndTheFix()
    {
        string message = TorchSharpLoader.LoadFailureMessage("/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", "GLIBCXX_3.4.30");
        string[] parts = ["needs GLIBCXX_3.4.32", "(/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30) stops at GLIBCXX_3.4.30", "install g++", "rebuild"];
        Assert.All(parts, part => Assert.Contains(part, message));
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void MessageSaysSoWhenNoLibStdCxxOrVersionWasFound()
    {
        Assert.Contains("the system libstdc++ (/lib/libstdc++.so.6) does not define it", TorchSharpLoader.LoadFailureMessage("/lib/libstdc++.so.6", null));
        Assert.Contains("no system libstdc++ defines it", TorchSharpLoader.LoadFailureMessage(null, null));
    }

    [Fact]
    public void NewestVersionIsTheHighestNumberNotTheLastString()
    {
        // Version names as they sit in .dynstr, out of order, with look-alikes that are not GLIBCXX_3.4.N.
        byte[] image = Encoding.ASCII.GetBytes("\0GLIBCXX_3.4.9\0GLIBCXX_3.4.30\0GLIBCXX_3.4.29\0CXXABI_1.3.15\0GLIBCXX_3.4.2\0GLIBCXX_DEBUG_MESSAGE_LENGTH\0");
        Assert.Equal("GLIBCXX_3.4.30", TorchSharpLoader.NewestGlibcxxVersion(image));
        Assert.Null(TorchSharpLoader.NewestGlibcxxVersion(Encoding.ASCII.GetBytes("\0CXXABI_1.3\0GLIBC_2.34\0")));
    }

    [Theory]
    [InlineData("/app/libLibTorchSharp.so: /lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not found", null, true)]
    [InlineData("libLibTorchSharp.so: cannot open shared object file", "GLIBCXX_3.4.30", true)]
    [InlineData("libLibTorchSharp.so: cannot open shared object file", "GLIBCXX_3.4.32", false)]
    [InlineData("libLibTorchSharp.so: cannot open shared object file", "GLIBCXX_3.4.33", false)]
    [InlineData("libLibTorchSharp.so: cannot open shared object file", null, false)]
    public void TooOldWhenTheLoaderSaysSoOrTheLibraryStopsBeforeIt(string loaderMessages, string? newest, bool expected) =>
        Assert.Equal(expected, TorchSharpLoader.IsLibStdCxxTooOld(loaderMessages, newest));

    [Fact]
    public void ThisMachinesLibStdCxxIsRead()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? path = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }.FirstOrDefault(File.Exists);
        if (path is null) return;
        Assert.Matches(@"^GLIBCXX_3\.4\.\d+$", TorchSharpLoader.NewestGlibcxxVersion(File.ReadAllBytes(path)));
        TorchSharpLoader.Ensure();  // the build's compat step made it loadable here
        TorchSharpLoader.Ensure();  // and the second call is free
    }
}
