using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;
using Evlf.OnnxHybrid.Training;

namespace Evlf.Bench.PyTorch;

/// <summary>A figure that both the C# bench and tools/bench/bench_reference.py report.</summary>
/// <param name="Key">The Python object's key, also the key of the stage's ratio.</param>
/// <param name="CSharpPath">Where the C# figure sits in bench.json, as dot-separated keys.</param>
/// <param name="Unit">The figure's unit, for the table.</param>
/// <param name="LowerIsBetter">A time (ms, s) rather than a rate (images/s, GFLOP/s).</param>
public sealed record PythonReferenceStage(string Key, string CSharpPath, string Unit, bool LowerIsBetter)
{
    /// <summary>How many times faster C# is: Python time ÷ C# time, or C# rate ÷ Python rate (&gt; 1: C# is faster).</summary>
    public double Speedup(double csharp, double python) => LowerIsBetter ? python / csharp : csharp / python;
}

/// <summary>One row of the comparison: both figures and the C# speedup.</summary>
public sealed record PythonReferenceComparison(PythonReferenceStage Stage, double CSharp, double Python, double Speedup);

/// <summary>The reason the Python reference produced no figures, as one sentence.</summary>
public sealed class PythonReferenceException(string message) : Exception(message);

/// <summary>
/// The PyTorch-eager side of <c>evlf bench</c>: runs tools/bench/bench_reference.py with the bench's thread
/// count in a child process and compares its figures with the C# ones of the same run.
/// </summary>
public static class PythonReference
{
    /// <summary>The Debian interpreter that has torch, as tools/reference and tools/bench use.</summary>
    public const string DefaultInterpreter = "/usr/bin/python3";

    /// <summary>The script, relative to the repository root.</summary>
    public static readonly string ScriptPath = Path.Combine("tools", "bench", "bench_reference.py");

    /// <summary>The script's exit status when its interpreter cannot import torch.</summary>
    public const int MissingTorchExitCode = 3;

    /// <summary>The figures both sides measure, in the order of the table.</summary>
    public static IReadOnlyList<PythonReferenceStage> Stages { get; } =
    [
        new("gemm_1024_gflops", "gemm_1024_gflops", "GFLOP/s", LowerIsBetter: false),
        new("fusion_training_ms_per_step", "fusion_training_ms_per_step", "ms/step", LowerIsBetter: true),
        new("convnet3_images_per_second", "convnet3_training.images_per_second", "images/s", LowerIsBetter: false),
        new("sampler_step_math_ms_per_step", "sampler_step_math_ms_per_step", "ms/step", LowerIsBetter: true),
        new("kmeans_6000x256_k10_seconds", "kmeans_6000x256_k10.seconds", "s", LowerIsBetter: true),
        new("kmeans_ms_per_iteration", "kmeans_6000x256_k10.ms_per_iteration", "ms/iteration", LowerIsBetter: true),
    ];

    /// <summary>The wall-clock limit of the script: its full run takes minutes with an optimised BLAS, far longer with the netlib one.</summary>
    public static TimeSpan Timeout(bool quick) => TimeSpan.FromMinutes(quick ? 20 : 60);

    /// <summary>Every stage for which both reports hold a positive finite figure, with the C# speedup.</summary>
    public static IReadOnlyList<PythonReferenceComparison> Compare(JsonObject csharp, JsonObject python)
    {
        var rows = new List<PythonReferenceComparison>();
        foreach (var stage in Stages)
            if (Figure(csharp, stage.CSharpPath) is double c && Figure(python, stage.Key) is double p)
                rows.Add(new PythonReferenceComparison(stage, c, p, stage.Speedup(c, p)));
        return rows;
    }

    /// <summary>The "ratios" object of bench.json: stage key → C# speedup over Python, rounded to 3 decimals.</summary>
    public static JsonObject Ratios(IEnumerable<PythonReferenceComparison> comparisons)
    {
        var ratios = new JsonObject();
        foreach (var c in comparisons) ratios[c.Stage.Key] = Math.Round(c.Speedup, 3);
        return ratios;
    }

    /// <summary>The number at a dot path of <paramref name="report"/>, or null where it is absent, not a number, or not positive and finite.</summary>
    static double? Figure(JsonObject report, string path)
    {
        JsonNode? node = report;
        foreach (var key in path.Split('.'))
            node = node is JsonObject o && o.TryGetPropertyValue(key, out var child) ? child : null;
        return node is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) && d > 0 ? d : null;
    }

    /// <summary>
    /// tools/bench/bench_reference.py (or another script, <paramref name="relativePath"/> from the repository root)
    /// under the working directory or under a folder above the evlf binary (a build inside the repository); null when
    /// neither has it.
    /// </summary>
    public static string? FindScript(string? relativePath = null)
    {
        relativePath ??= ScriptPath;
        string here = Path.GetFullPath(relativePath);
        if (File.Exists(here)) return here;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Runs <paramref name="script"/> with <paramref name="interpreter"/> and <c>--threads</c>
    /// <paramref name="threads"/> (plus <c>--quick</c>) and returns the JSON object it prints last on stdout.
    /// </summary>
    /// <exception cref="PythonReferenceException">See <see cref="RunScript"/>.</exception>
    public static JsonObject Run(string interpreter, string script, int threads, bool quick, TimeSpan timeout) =>
        RunScript(interpreter, script, quick
            ? ["--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quick"]
            : ["--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout);

    /// <summary>
    /// Runs <paramref name="script"/> with <paramref name="interpreter"/> and <paramref name="arguments"/> and returns
    /// the JSON object it prints last on stdout. The child gets the short OpenMP spin this process asked for
    /// (<see cref="TorchThreads.PreferShortSpin"/>), which .NET's copy of the environment does not hold.
    /// </summary>
    /// <exception cref="PythonReferenceException">The interpreter does not start, the script fails, runs past
    /// <paramref name="timeout"/>, or prints no JSON object.</exception>
    public static JsonObject RunScript(string interpreter, string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(interpreter);
        start.ArgumentList.Add(script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (OperatingSystem.IsLinux() && !start.Environment.ContainsKey("OMP_WAIT_POLICY") && !start.Environment.ContainsKey("GOMP_SPINCOUNT"))
            start.Environment["GOMP_SPINCOUNT"] = TorchThreads.DefaultSpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string? coreType = start.Environment.ContainsKey(OpenBlasCoreTypeVariable) ? null : OpenBlasCoreType();
        if (coreType is not null) start.Environment[OpenBlasCoreTypeVariable] = coreType;

        ChildProcess.Result run;
        try
        {
            run = ChildProcess.Run(start, timeout);
        }
        catch (Win32Exception e)
        {
            throw new PythonReferenceException($"{interpreter} could not be started ({e.Message}).");
        }
        if (run.TimedOut) throw new PythonReferenceException($"{script} ran past its limit of {timeout.TotalSeconds:0} s and was stopped.");
        if (run.ExitCode != 0)
        {
            string why = ChildProcess.LastLine(run.Stderr) ?? "no message on stderr";
            throw new PythonReferenceException(run.ExitCode == MissingTorchExitCode
                ? $"{interpreter} has no torch: {why}"
                : $"{script} exited with status {run.ExitCode}: {why}");
        }
        var result = Parse(run.Stdout, script);
        if (coreType is not null) result[OpenBlasCoreTypeVariable] = coreType;
        return result;
    }

    /// <summary>The variable that makes OpenBLAS use one CPU's kernels instead of the ones it detects.</summary>
    public const string OpenBlasCoreTypeVariable = "OPENBLAS_CORETYPE";

    /// <summary>
    /// The OpenBLAS kernels this CPU runs at full speed: SKYLAKEX with AVX-512 (F, BW, DQ, VL), HASWELL with AVX2 and
    /// FMA, else null (OpenBLAS's own choice). OpenBLAS builds older than a CPU do not recognise it and fall back to
    /// generic SSE3 kernels (Debian 12's OpenBLAS 0.3.21 on Sapphire Rapids: "Core: Prescott", a 1024³ GEMM at
    /// 36 GFLOP/s against 186 with SKYLAKEX, measured here), which would make the Python reference look slower than it
    /// is; the child processes run with the best kernels the CPU supports unless the user set the variable.
    /// </summary>
    public static string? OpenBlasCoreType()
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported) return "SKYLAKEX";
        if (Avx2.IsSupported && Fma.IsSupported) return "HASWELL";
        return null;
    }

    /// <summary>The last non-empty line of the script's stdout as a JSON object.</summary>
    public static JsonObject Parse(string stdout, string script)
    {
        string line = ChildProcess.LastLine(stdout) ?? throw new PythonReferenceException($"{script} printed nothing on stdout; expected one JSON object.");
        try
        {
            return JsonNode.Parse(line) as JsonObject
                ?? throw new PythonReferenceException($"{script} printed '{Shorten(line)}' last; expected a JSON object.");
        }
        catch (JsonException)
        {
            throw new PythonReferenceException($"{script} printed '{Shorten(line)}' last; expected a JSON object.");
        }
    }


    static string Shorten(string s) => s.Length <= 120 ? s : s[..117] + "...";
}
