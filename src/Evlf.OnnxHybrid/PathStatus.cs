using System.Runtime.InteropServices;

namespace Evlf.OnnxHybrid;

/// <summary>What a path is, as the file system sees it without opening it.</summary>
public enum PathKind
{
    /// <summary>Nothing is there (or a link points at nothing).</summary>
    Missing,
    Regular,
    Directory,
    /// <summary>A symbolic link (only when links are not followed).</summary>
    Link,
    /// <summary>A FIFO, socket or device: opening it may block forever or read without end.</summary>
    Special,
}

/// <summary>
/// The kind, size and modification time of a path, read with <c>statx</c> on Linux so that FIFOs, sockets and
/// devices are told apart from regular files before anything opens them (.NET reports all of them as plain files,
/// and opening a FIFO blocks until a writer appears). Elsewhere .NET's own file information is used: Windows has no
/// such files in folders; on other systems special files are not detected.
/// </summary>
public readonly record struct PathStatus(PathKind Kind, long Size, long ModifiedNanoseconds)
{
    public bool IsRegular => Kind == PathKind.Regular;

    /// <summary>The status of <paramref name="path"/>; with <paramref name="followLinks"/> a link reports its final target.</summary>
    public static PathStatus Of(string path, bool followLinks = true)
    {
        if (Statx.TryGet(path, followLinks, out var status)) return status;
        return Managed(path, followLinks);
    }

    /// <summary>
    /// Throws <see cref="UserInputException"/> "<paramref name="what"/> '<paramref name="path"/>' …" unless the path is a
    /// regular file (links followed); call it before opening a file a user or a downloaded file named.
    /// </summary>
    public static PathStatus RequireFile(string path, string what)
    {
        var status = Of(path);
        return status.Kind switch
        {
            PathKind.Regular => status,
            PathKind.Missing => throw new UserInputException($"{what} '{path}' was not found."),
            PathKind.Directory => throw new UserInputException($"{what} '{path}' is a folder; expected a file."),
            _ => throw new UserInputException($"{what} '{path}' is a FIFO, socket or device, not a regular file; it was not opened (reading it could block or never end)."),
        };
    }

    static PathStatus Managed(string path, bool followLinks)
    {
        FileSystemInfo info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            if (!followLinks) return new(PathKind.Link, 0, 0);
            try { info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info; }
            catch (IOException) { return new(PathKind.Missing, 0, 0); }  // a loop of links
        }
        if (info.Attributes != (FileAttributes)(-1) && info.Attributes.HasFlag(FileAttributes.Directory))
            return new(PathKind.Directory, 0, Nanoseconds(info.LastWriteTimeUtc));
        if (info is not FileInfo file) file = new FileInfo(info.FullName);
        if (!file.Exists) return new(PathKind.Missing, 0, 0);
        if (file.Attributes.HasFlag(FileAttributes.Device)) return new(PathKind.Special, 0, 0);
        return new(PathKind.Regular, file.Length, Nanoseconds(file.LastWriteTimeUtc));
    }

    static long Nanoseconds(DateTime utc) => (utc - DateTime.UnixEpoch).Ticks * 100;

    /// <summary>Linux <c>statx(2)</c>: one layout on every architecture, unlike <c>struct stat</c>.</summary>
    static unsafe class Statx
    {
        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const uint BasicStats = 0x7ff;
        const int BufferSize = 256;
        // Offsets in struct statx (linux/stat.h).
        const int ModeOffset = 28, SizeOffset = 40, MtimeOffset = 112;
        const int TypeMask = 0xF000, Fifo = 0x1000, CharDevice = 0x2000, Dir = 0x4000, BlockDevice = 0x6000, Reg = 0x8000, Lnk = 0xA000, Socket = 0xC000;

        static readonly delegate* unmanaged<int, byte*, int, uint, byte*, int> Function = Load();

        static delegate* unmanaged<int, byte*, int, uint, byte*, int> Load()
        {
            if (!OperatingSystem.IsLinux()) return null;
            foreach (var name in new[] { "libc.so.6", "libc" })
                if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "statx", out var f))
                    return (delegate* unmanaged<int, byte*, int, uint, byte*, int>)f;
            return null;
        }

        public static bool TryGet(string path, bool followLinks, out PathStatus status)
        {
            status = default;
            if (Function == null) return false;
            if (path.Contains('\0')) { status = new(PathKind.Missing, 0, 0); return true; }
            int length = System.Text.Encoding.UTF8.GetByteCount(path);
            var name = new byte[length + 1];
            System.Text.Encoding.UTF8.GetBytes(path, name);
            byte* buffer = stackalloc byte[BufferSize];
            int rc;
            fixed (byte* p = name) rc = Function(AtFdCwd, p, followLinks ? 0 : AtSymlinkNoFollow, BasicStats, buffer);
            // Missing, not permitted, a loop of links, or no statx in this kernel: .NET's own answer will do.
            if (rc != 0) return false;
            int mode = *(ushort*)(buffer + ModeOffset) & TypeMask;
            long size = *(long*)(buffer + SizeOffset);
            long seconds = *(long*)(buffer + MtimeOffset);
            uint nanos = *(uint*)(buffer + MtimeOffset + 8);
            var kind = mode switch
            {
                Reg => PathKind.Regular,
                Dir => PathKind.Directory,
                Lnk => PathKind.Link,
                Fifo or CharDevice or BlockDevice or Socket => PathKind.Special,
                _ => PathKind.Special,
            };
            status = new(kind, kind == PathKind.Regular ? size : 0, seconds * 1_000_000_000 + nanos);
            return true;
        }
    }
}
