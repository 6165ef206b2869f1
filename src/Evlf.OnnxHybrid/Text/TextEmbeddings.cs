using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Text;

/// <summary>
/// A text encoder's output for a batch of N prompts of L tokens: the ids and mask it was given, the token embeddings
/// e_text (N, L, D) float32 and the pooled class vector (N, D). CPU tensors; dispose when done.
/// </summary>
public sealed class TextEmbeddings(Tensor inputIds, Tensor attentionMask, Tensor tokens, Tensor pooled) : IDisposable
{
    /// <summary>(N, L) int64.</summary>
    public Tensor InputIds { get; } = inputIds;

    /// <summary>(N, L) int64; 1 for real tokens, 0 for padding.</summary>
    public Tensor AttentionMask { get; } = attentionMask;

    /// <summary>(N, L, D) float32: the encoder's last hidden state.</summary>
    public Tensor Tokens { get; } = tokens;

    /// <summary>(N, D) float32: one vector per prompt by the encoder's pooling rule.</summary>
    public Tensor Pooled { get; } = pooled;

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Tokens.Dispose();
        Pooled.Dispose();
    }
}
