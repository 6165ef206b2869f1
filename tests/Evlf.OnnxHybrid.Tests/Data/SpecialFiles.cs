using System.Diagnostics;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>Makes file-system entries that are not regular files, for the tests that readers never open them.</summary>
internal static class SpecialFiles
{
    /// <summary>Creates a FIFO (named pipe) at <paramref name="path"/> with mkfifo(1): opening it for reading blocks until a writer comes.</summary>
    public static void MakeFifo(string path)
    {
        var psi = new ProcessStartInfo("mkfifo") { UseShellExecute = false };
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
