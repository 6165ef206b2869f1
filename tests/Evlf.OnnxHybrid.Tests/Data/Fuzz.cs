using System.Buffers.Binary;

namespace Evlf.OnnxHybrid.Tests.Data;

/// <summary>
/// Seeded mutation fuzzing for the readers: each case mutates a small valid file (truncate,
/// flip bytes, a header field set to a huge or negative value, insert, append), runs the reader on it, and requires a
/// <see cref="UserInputException"/> or success — never another exception, never a hang, never a huge allocation.
/// </summary>
internal static class Fuzz
{
    /// <summary>Most bytes one case may allocate on its thread: far above any of the tiny inputs, far below a header's claim.</summary>
    public const long AllocationLimit = 64L << 20;

    /// <summary>How long one case may take before it counts as a hang.</summary>
    public static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(20);

    static readonly uint[] HugeFields = [0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x40000000, 0x00100000, 0x00010001, 0];

    /// <summary>One mutation of <paramref name="valid"/>, chosen by <paramref name="random"/>.</summary>
    /// <param name="headerBytes">Where the format keeps its size fields: huge values are written there more often.</param>
    public static byte[] Mutate(byte[] valid, Random random, int headerBytes = 32)
    {
        var b = valid.ToArray();
        switch (random.Next(6))
        {
            case 0: // truncate
                return b.AsSpan(0, random.Next(b.Length)).ToArray();
            case 1: // flip a few bytes anywhere
                for (int i = 0, n = 1 + random.Next(8); i < n && b.Length > 0; i++) b[random.Next(b.Length)] = (byte)random.Next(256);
                return b;
            case 2: // a header field set to a huge, negative or zero value, either byte order
            {
                if (b.Length < 4) return b;
                int at = random.Next(Math.Max(1, Math.Min(headerBytes, b.Length) - 3));
                uint value = HugeFields[random.Next(HugeFields.Length)];
                if (random.Next(2) == 0) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), value);
                else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), value);
                return b;
            }
            case 3: // insert random bytes
            {
                int at = random.Next(b.Length + 1);
                var extra = new byte[1 + random.Next(16)];
                random.NextBytes(extra);
                return [.. b.AsSpan(0, at), .. extra, .. b.AsSpan(at)];
            }
            case 4: // append garbage
            {
                var extra = new byte[1 + random.Next(64)];
                random.NextBytes(extra);
                return [.. b, .. extra];
            }
            default: // flip one bit in the header
            {
                if (b.Length == 0) return b;
                int at = random.Next(Math.Min(headerBytes, b.Length));
                b[at] ^= (byte)(1 << random.Next(8));
                return b;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="act"/> for case <paramref name="index"/> on a thread of its own, with a time limit, and checks
    /// that it succeeded or threw <see cref="UserInputException"/>, allocating at most <see cref="AllocationLimit"/>.
    /// Returns whether it threw (so a test can check that most mutations are caught, not silently accepted).
    /// </summary>
    public static bool Check(string what, int index, Action act)
    {
        Exception? thrown = null;
        long allocated = 0;
        var run = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { act(); }
            catch (Exception e) { thrown = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, TaskCreationOptions.LongRunning);
        Assert.True(run.Wait(CaseLimit), $"{what}, case {index}: the reader did not finish within {CaseLimit.TotalSeconds} s (a hang)");
        Assert.True(thrown is null or UserInputException,
            $"{what}, case {index}: expected success or a UserInputException, got {thrown?.GetType().Name}: {thrown?.Message}\n{thrown}");
        Assert.True(allocated < AllocationLimit, $"{what}, case {index}: the reader allocated {allocated} bytes");
        if (thrown is UserInputException e) Assert.DoesNotContain("\n", e.Message);
        return thrown is not null;
    }
}
