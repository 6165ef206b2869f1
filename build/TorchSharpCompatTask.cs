// MSBuild task behind TorchSharpCompat.targets; see README "Troubleshooting: TorchSharp fails to load".
//
// TorchSharp-cpu 0.107.0's libLibTorchSharp.so requires GLIBCXX_3.4.32 for exactly one symbol,
// std::ios_base_library_init() (GCC >= 13). On systems whose libstdc++ stops at 3.4.30/3.4.31 the
// dynamic loader refuses the library. For every libLibTorchSharp.so under the output folder this task
//   1. does nothing when the system libstdc++ already defines GLIBCXX_3.4.32 (or the OS is not Linux);
//   2. builds libevlf_glibcxx_compat.so beside it (g++), which exports that symbol at that version,
//      and adds it as a DT_NEEDED entry (patchelf) so the symbol is always resolvable;
//   3. marks the GLIBCXX_3.4.32 version reference weak (VER_FLG_WEAK), so the loader no longer
//      insists that libstdc++ itself provide that version.
// Step 3 alone suffices to load the library (no relocation refers to the symbol); steps 2 is skipped,
// with a message, where g++ or patchelf is missing. Every step checks first, so re-running is a no-op.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class TorchSharpCompatTask : Task
{
    const string MissingVersion = "GLIBCXX_3.4.32";
    const string ShimName = "libevlf_glibcxx_compat.so";
    const ushort VerFlagWeak = 0x2;

    [Required] public string OutputDirectory { get; set; } = "";
    [Required] public string ShimSource { get; set; } = "";
    [Required] public string ShimVersionScript { get; set; } = "";

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || !Directory.Exists(OutputDirectory)) return true;
        var targets = Directory.GetFiles(OutputDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (targets.Length == 0) return true;
        if (SystemLibStdCxxHas(MissingVersion))
        {
            Log.LogMessage(MessageImportance.Low, $"TorchSharp compat: system libstdc++ has {MissingVersion}; nothing to do.");
            return true;
        }
        foreach (var lib in targets)
        {
            try { PatchOne(lib); }
            catch (Exception e)
            {
                Log.LogWarning($"TorchSharp compat: could not patch {lib}: {e.Message}. TorchSharp may fail to load; see README troubleshooting.");
            }
        }
        return true;
    }

    void PatchOne(string lib)
    {
        var dir = Path.GetDirectoryName(lib)!;
        var image = File.ReadAllBytes(lib);
        var elf = new Elf64(image);
        if (!elf.RequiresVersion(MissingVersion)) return;

        bool changed = false;
        if (!elf.Needed().Contains(ShimName))
        {
            string shim = Path.Combine(dir, ShimName);
            if (BuildShim(shim) && Run("patchelf", $"--add-needed {ShimName} \"{lib}\"", out var err))
            {
                image = File.ReadAllBytes(lib);
                elf = new Elf64(image);
                Log.LogMessage(MessageImportance.Normal, $"TorchSharp compat: {lib} now needs {ShimName}.");
            }
            else
            {
                Log.LogMessage(MessageImportance.High, $"TorchSharp compat: g++ or patchelf unavailable, so {ShimName} was not added to {lib}; weakening the version reference alone.");
            }
        }
        if (elf.WeakenVersionReference(MissingVersion, VerFlagWeak)) changed = true;
        if (changed)
        {
            // Write beside and rename: never a half-written library, and a hard link into the NuGet cache is broken rather than modified.
            string tmp = lib + ".evlf-tmp";
            File.WriteAllBytes(tmp, image);
            ReplaceFile(tmp, lib);
            Log.LogMessage(MessageImportance.Normal, $"TorchSharp compat: marked {MissingVersion} weak in {lib}.");
        }
    }

    bool BuildShim(string shim)
    {
        if (File.Exists(shim) && new Elf64(File.ReadAllBytes(shim)).DefinesVersion(MissingVersion)) return true;
        string tmp = shim + ".evlf-tmp";
        if (!Run("g++", $"-shared -fPIC -O2 -Wl,--version-script=\"{ShimVersionScript}\" -o \"{tmp}\" \"{ShimSource}\"", out _)) return false;
        ReplaceFile(tmp, shim);
        return true;
    }

    static void ReplaceFile(string source, string destination)
    {
        if (File.Exists(destination)) File.Replace(source, destination, null);
        else File.Move(source, destination);
    }

    bool Run(string exe, string args, out string stderr)
    {
        stderr = "";
        try
        {
            var psi = new ProcessStartInfo(exe, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) Log.LogMessage(MessageImportance.Low, $"TorchSharp compat: {exe} failed: {stderr}");
            return p.ExitCode == 0;
        }
        catch (Exception e)
        {
            stderr = e.Message;
            return false;
        }
    }

    static bool SystemLibStdCxxHas(string version)
    {
        string[] dirs = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" };
        foreach (var d in dirs)
        {
            var path = Path.Combine(d, "libstdc++.so.6");
            if (!File.Exists(path)) continue;
            try { return new Elf64(File.ReadAllBytes(path)).DefinesVersion(version); }
            catch { return false; }
        }
        return false;
    }

    /// <summary>Just enough ELF64 (little-endian) to read version definitions/needs and DT_NEEDED.</summary>
    sealed class Elf64
    {
        readonly byte[] b;
        readonly List<(uint Type, long Offset, long Size, int Link)> sections = new();

        public Elf64(byte[] bytes)
        {
            b = bytes;
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            long shoff = (long)U64(0x28);
            int shentsize = U16(0x3A), shnum = U16(0x3C);
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + (long)i * shentsize;
                sections.Add((U32(h + 4), (long)U64(h + 0x18), (long)U64(h + 0x20), (int)U32(h + 0x28)));
            }
        }

        ushort U16(long o) => BitConverter.ToUInt16(b, (int)o);
        uint U32(long o) => BitConverter.ToUInt32(b, (int)o);
        ulong U64(long o) => BitConverter.ToUInt64(b, (int)o);

        string Str(int strtabSection, long offset)
        {
            long start = sections[strtabSection].Offset + offset, end = start;
            while (b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)start, (int)(end - start));
        }

        IEnumerable<(long AuxOffset, string Name)> VersionNeeds()
        {
            foreach (var s in sections.Where(s => s.Type == 0x6ffffffe)) // SHT_GNU_verneed
            {
                long vn = s.Offset;
                while (true)
                {
                    int cnt = U16(vn + 2);
                    long aux = vn + U32(vn + 8);
                    for (int i = 0; i < cnt; i++)
                    {
                        yield return (aux, Str(s.Link, U32(aux + 8)));
                        uint next = U32(aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    uint vnNext = U32(vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
        }

        public bool RequiresVersion(string name) => VersionNeeds().Any(v => v.Name == name);

        /// <summary>Sets VER_FLG_WEAK on the named version need; false when it was already weak or absent.</summary>
        public bool WeakenVersionReference(string name, ushort weakFlag)
        {
            foreach (var (aux, n) in VersionNeeds().ToList())
            {
                if (n != name) continue;
                ushort flags = U16(aux + 4);
                if ((flags & weakFlag) != 0) return false;
                BitConverter.GetBytes((ushort)(flags | weakFlag)).CopyTo(b, (int)(aux + 4));
                return true;
            }
            return false;
        }

        public bool DefinesVersion(string name)
        {
            foreach (var s in sections.Where(s => s.Type == 0x6ffffffd)) // SHT_GNU_verdef
            {
                long vd = s.Offset;
                while (true)
                {
                    long aux = vd + U32(vd + 12);
                    if (Str(s.Link, U32(aux)) == name) return true;
                    uint next = U32(vd + 16);
                    if (next == 0) break;
                    vd += next;
                }
            }
            return false;
        }

        public HashSet<string> Needed()
        {
            var result = new HashSet<string>();
            foreach (var s in sections.Where(s => s.Type == 6)) // SHT_DYNAMIC
                for (long o = s.Offset; o + 16 <= s.Offset + s.Size; o += 16)
                {
                    long tag = (long)U64(o);
                    if (tag == 0) break;
                    if (tag == 1) result.Add(Str(s.Link, (long)U64(o + 8))); // DT_NEEDED
                }
            return result;
        }
    }
}
