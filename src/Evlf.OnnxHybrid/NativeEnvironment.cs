using System.Runtime.InteropServices;

namespace Evlf.OnnxHybrid;

/// <summary>
/// The C library's copy of the process environment, which native code (libtorch's OpenMP, ONNX Runtime) reads: .NET keeps
/// its own copy on Unix, so <see cref="Environment.SetEnvironmentVariable(string, string)"/> never reaches them.
/// </summary>
public static class NativeEnvironment
{
    /// <summary>
    /// Sets <paramref name="name"/> for native code unless it is already set (in .NET's environment or, without
    /// <paramref name="overwrite"/>, in libc's). Only effective before the native library that reads it starts. Returns
    /// whether it set the variable; false on Windows, where .NET and native code share one environment and this is not needed.
    /// </summary>
    public static bool SetDefault(string name, string value, bool overwrite = false)
    {
        if (OperatingSystem.IsWindows())
        {
            if (Environment.GetEnvironmentVariable(name) is not null) return false;
            Environment.SetEnvironmentVariable(name, value);
            return true;
        }
        if (Environment.GetEnvironmentVariable(name) is not null) return false;
        try
        {
            return setenv(name, value, overwrite ? 1 : 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc.so.6", CallingConvention = CallingConvention.Cdecl, CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
