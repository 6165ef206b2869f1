using System.Security.Cryptography;

namespace Evlf.OnnxHybrid.Data;

/// <summary>A split that exposes chosen samples of another split, in a chosen order.</summary>
internal sealed class SubsetSplit(DatasetSplit parent, int[] indices, string name) : DatasetSplit(name)
{
    public override int Count => indices.Length;
    public override int Channels => parent.Channels;
    public override bool InMemory => parent.InMemory;
    public override int LabelOf(int index) => parent.LabelOf(indices[index]);
    public override string SourceOf(int index) => parent.SourceOf(indices[index]);
    public override ByteImage Load(int index) => parent.Load(indices[index]);

    /// <summary>The chosen indices and the whole parent's identity: a change anywhere in the parent counts (safe, and cheap).</summary>
    public override void AppendContentIdentity(IncrementalHash hash)
    {
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(indices.AsSpan()));
        parent.AppendContentIdentity(hash);
    }
}
