using Google.Protobuf;
using Evlf.OnnxHybrid.Onnx;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Training;

/// <summary>
/// MinimaxDiffusion's two criteria on the denoiser's x̂₀ (its "pseudo embeddings"), with their per-class FIFO memories
/// (docs/PIPELINES.md §4): for each class c in the batch whose memories hold anything,
/// representativeness rep_c = 1 − min cos(x̂₀ of c's rows, c's real memory) and diversity div_c = max cos(x̂₀ of c's rows,
/// c's memory of earlier x̂₀), both over every pair; the step's terms are Σ_c rep_c / k and Σ_c div_c / k with k the
/// classes in the batch (classes met for the first time add 0 but count in k). After the terms, each class's real rows
/// (x₀) and detached x̂₀ rows join its memories, which keep the newest <see cref="MemorySize"/>. Latents are compared
/// flattened. The memories are checkpointed (<see cref="ICheckpointedState"/>), so a resumed fine-tune continues exactly.
/// </summary>
public sealed class MinimaxCriteria : ICheckpointedState, IDisposable
{
    readonly Tensor?[] realMemory;
    readonly Tensor?[] pseudoMemory;

    /// <param name="classes">Labels run from 0 to classes − 1.</param>
    /// <param name="memorySize">Rows each memory keeps per class (the released 64).</param>
    public MinimaxCriteria(int classes, int memorySize)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "Need at least one class.");
        if (memorySize < 1) throw new ArgumentOutOfRangeException(nameof(memorySize), memorySize, "A memory keeps at least one row.");
        realMemory = new Tensor?[classes];
        pseudoMemory = new Tensor?[classes];
        MemorySize = memorySize;
    }

    public int MemorySize { get; }

    /// <summary>Rows in class <paramref name="c"/>'s memories (real and pseudo hold the same number).</summary>
    public long Count(int c) => realMemory[c]?.shape[0] ?? 0;

    /// <summary>
    /// The step's representativeness and diversity terms (unweighted scalars, differentiable in
    /// <paramref name="predictedX0"/>), then the memory update.
    /// </summary>
    /// <param name="predictedX0">x̂₀ of each batch row, (N, …), with its gradient.</param>
    /// <param name="realX0">The real latents the rows were noised from, (N, …).</param>
    /// <param name="labels">Each row's class, (N) int64: the real label, not the one condition dropout replaced.</param>
    public (Tensor Representativeness, Tensor Diversity) Step(Tensor predictedX0, Tensor realX0, Tensor labels)
    {
        var pseudo = predictedX0.flatten(1);
        var real = realX0.flatten(1);
        var classes = labels.data<long>().Distinct().Order().ToArray();
        var representativeness = zeros(1, dtype: pseudo.dtype).sum();
        var diversity = zeros(1, dtype: pseudo.dtype).sum();
        foreach (long c in classes)
        {
            var rows = labels.eq(c).nonzero().flatten();
            var mine = pseudo.index_select(0, rows);
            if (pseudoMemory[c] is { } earlier)
            {
                representativeness = representativeness + (1 - Cosine(mine, realMemory[c]!).min()) / classes.Length;
                diversity = diversity + Cosine(mine, earlier).max() / classes.Length;
            }
            Remember(realMemory, c, real.index_select(0, rows));
            Remember(pseudoMemory, c, mine);
        }
        return (representativeness, diversity);
    }

    /// <summary>Cosine similarity of every row of <paramref name="a"/> with every row of <paramref name="b"/>, (rows a, rows b).</summary>
    public static Tensor Cosine(Tensor a, Tensor b) =>
        a.matmul(b.t()) / (a.norm(1, false, 2).unsqueeze(1) * b.norm(1, false, 2).unsqueeze(0));

    /// <summary>Appends <paramref name="rows"/> (detached) to class <paramref name="c"/>'s memory and keeps its newest <see cref="MemorySize"/> rows.</summary>
    void Remember(Tensor?[] memory, long c, Tensor rows)
    {
        using var scope = NewDisposeScope();
        var all = memory[c] is { } old ? cat([old, rows.detach()]) : rows.detach();
        long keep = Math.Min(all.shape[0], MemorySize);
        // Kept beyond every dispose scope: the memory lives across steps and is disposed when replaced.
        var kept = all.narrow(0, all.shape[0] - keep, keep).clone().DetachFromDisposeScope();
        memory[c]?.Dispose();
        memory[c] = kept;
    }

    public void Save(string folder)
    {
        for (int c = 0; c < realMemory.Length; c++)
        {
            if (realMemory[c] is not { } real) continue;
            File.WriteAllBytes(FileOf(folder, "real", c), OnnxTensor.FromTorch($"real{c}", real).ToByteArray());
            File.WriteAllBytes(FileOf(folder, "pseudo", c), OnnxTensor.FromTorch($"pseudo{c}", pseudoMemory[c]!).ToByteArray());
        }
    }

    public void Load(string folder)
    {
        for (int c = 0; c < realMemory.Length; c++)
        {
            realMemory[c]?.Dispose();
            pseudoMemory[c]?.Dispose();
            realMemory[c] = pseudoMemory[c] = null;
            if (!File.Exists(FileOf(folder, "real", c))) continue;
            realMemory[c] = Read(FileOf(folder, "real", c));
            pseudoMemory[c] = Read(FileOf(folder, "pseudo", c));
        }

        static Tensor Read(string path)
        {
            var tensor = OnnxTensor.ToTorch(global::Onnx.TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)));
            tensor.DetachFromDisposeScope();
            return tensor;
        }
    }

    static string FileOf(string folder, string memory, int c) => Path.Combine(folder, $"minimax-{memory}-{c}.pb");

    public void Dispose()
    {
        foreach (var t in realMemory.Concat(pseudoMemory)) t?.Dispose();
        Array.Clear(realMemory);
        Array.Clear(pseudoMemory);
    }
}
