namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// The pass rule of a parity check (<see cref="ParityCheck"/>): an output fails when its max_abs_diff exceeds
/// tolerance × max(1, max_abs_value), absolute below magnitude 1 and relative above. Counts the outputs it is shown.
/// </summary>
public sealed class ParityVerdict(double tolerance)
{
    int failedOutputs;

    /// <summary>Outputs recorded so far.</summary>
    public int Checked { get; private set; }

    /// <summary>The largest max_abs_diff recorded so far (0 before any).</summary>
    public double Worst { get; private set; }

    public bool Failed => failedOutputs > 0;

    /// <summary>Records one output; returns the mark to append to its line ("" when within tolerance).</summary>
    public string Mark(double diff, double scale)
    {
        Checked++;
        Worst = Math.Max(Worst, diff);
        if (diff <= tolerance * Math.Max(1, scale)) return "";
        failedOutputs++;
        return "  FAIL";
    }

    /// <summary>One line: how many outputs of <paramref name="what"/> passed or failed, and the rule.</summary>
    public string Summary(string what) => Failed
        ? FormattableString.Invariant($"parity FAILED ({what}): {failedOutputs} of {Checked} outputs exceed {tolerance:G3} × max(1, max_abs_value)")
        : FormattableString.Invariant($"parity ok ({what}): {Checked} outputs within {tolerance:G3} × max(1, max_abs_value)");
}
