using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Session settings; defaults are full graph optimisation on all cores of the chosen device.</summary>
/// <param name="Device">auto | cpu | cuda. cuda needs the application to reference Microsoft.ML.OnnxRuntime.Gpu.Linux (or .Gpu) instead of Microsoft.ML.OnnxRuntime, and a GPU.</param>
/// <param name="IntraOpThreads">0 = ONNX Runtime's default (one per physical core).</param>
/// <param name="CudaDeviceId">GPU ordinal for the CUDA execution provider.</param>
public sealed record SessionSettings(ExecutionDevice Device = ExecutionDevice.Auto, int IntraOpThreads = 0, int CudaDeviceId = 0)
{
    public static SessionSettings Default { get; } = new();

    /// <summary>Where notices go: the once-per-process CUDA → CPU fallback of <see cref="ExecutionDevice.Auto"/> (Information).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>
/// One ONNX Runtime session over one model: execution provider choice, signature checks at load time,
/// float16 handled at the boundary, and <see cref="Bind"/> for allocation-free calls in sampling loops.
/// Inputs and outputs are TorchSharp CPU tensors, so the C# math around a model stays in one tensor type.
/// </summary>
public sealed partial class OnnxSession : IDisposable
{
    static int fallbackReported;

    // Before the first session creates ONNX Runtime's environment: ORT's Linux builds since 1.29 keep a usage-telemetry
    // queue and a device id under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and upload it, unless the opt-out variable
    // is set: ORT_DISABLE_TELEMETRY in 1.29–1.31 (the name in this package's libonnxruntime.so), ORT_TELEMETRY_DISABLED in
    // later releases. A user's own setting of either wins.
    static OnnxSession()
    {
        NativeEnvironment.SetDefault("ORT_DISABLE_TELEMETRY", "1");
        NativeEnvironment.SetDefault("ORT_TELEMETRY_DISABLED", "1");
        OrtEnv.Instance().DisableTelemetryEvents();
    }

    /// <summary>
    /// Refuses a device this process cannot use before any work: <c>cuda</c> when the loaded ONNX Runtime has no CUDA
    /// execution provider. (Whether a GPU answers is known only when a session starts on it.) <paramref name="option"/>
    /// is the library option that chose the device, as messages name it (<see cref="UserInputException.Options"/>).
    /// </summary>
    public static void RequireDevice(ExecutionDevice device, string option = DeviceOption)
    {
        if (device == ExecutionDevice.Cuda && !HasCudaProvider())
            throw UserInputException.ForOptions($"{option} cuda was requested but this build of ONNX Runtime has no CUDA execution provider; use {option} cpu or auto, or {CudaBuildHint}.", [option]);
    }

    /// <summary>The option that chooses a session's device, as messages name it.</summary>
    public const string DeviceOption = $"{nameof(SessionSettings)}.{nameof(SessionSettings.Device)}";

    /// <summary>How to get a CUDA-capable ONNX Runtime, and what it needs at run time, for the messages here.</summary>
    const string CudaBuildHint = "build the application against Microsoft.ML.OnnxRuntime.Gpu.Linux instead of Microsoft.ML.OnnxRuntime (evlf: dotnet build -p:EvlfGpu=true) and run it on a machine with an NVIDIA GPU and the CUDA 13 libraries (cuBLAS, cuDNN 9)";
    const string CudaRuntimeHint = "check that this machine has an NVIDIA driver and the CUDA 13 libraries ONNX Runtime's CUDA provider loads (libcudart.so.13, cuBLAS, cuDNN 9) on the library path";

    readonly InferenceSession session;
    readonly RunOptions runOptions = new();

    OnnxSession(InferenceSession session, string label, ExecutionDevice device, int cudaDeviceId)
    {
        this.session = session;
        Label = label;
        Device = device;
        this.cudaDeviceId = cudaDeviceId;
        Inputs = session.InputMetadata.Select(kv => Describe(kv.Key, kv.Value)).ToList();
        Outputs = session.OutputMetadata.Select(kv => Describe(kv.Key, kv.Value)).ToList();
    }

    /// <summary>The model file (or a label for in-memory models), used in messages.</summary>
    public string Label { get; }

    /// <summary>The device actually used (never Auto).</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Inputs as the model declares them; free dimensions are null.</summary>
    public IReadOnlyList<TensorSpec> Inputs { get; }

    public IReadOnlyList<TensorSpec> Outputs { get; }

    public static OnnxSession Open(string path, SessionSettings? settings = null, ModelSignature? expected = null)
    {
        if (!File.Exists(path))
            throw new UserInputException($"ONNX model '{path}' was not found.");
        return Create(s =>
        {
            try { return new InferenceSession(path, s); }
            catch (OnnxRuntimeException)
            {
                // Our reader gives one clear sentence for truncated, empty or non-ONNX files; if it finds
                // nothing wrong, ONNX Runtime's own message is reported.
                OnnxModel.Load(path);
                throw;
            }
        }, path, settings ?? SessionSettings.Default, expected);
    }

    public static OnnxSession FromModel(OnnxModel model, SessionSettings? settings = null, ModelSignature? expected = null, string? label = null)
    {
        if (model.ExternalLocations.Count > 0 && model.Path is not null)
            return Open(model.Path, settings, expected);
        byte[] bytes = Google.Protobuf.MessageExtensions.ToByteArray(model.Proto);
        return Create(s => new InferenceSession(bytes, s), label ?? model.Path ?? model.Graph.Name, settings ?? SessionSettings.Default, expected);
    }

    static OnnxSession Create(Func<SessionOptions, InferenceSession> factory, string label, SessionSettings settings, ModelSignature? expected)
    {
        TorchSharpLoader.Ensure();  // inputs and outputs are TorchSharp tensors
        var device = ExecutionDevice.Cpu;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = settings.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (settings.Device != ExecutionDevice.Cpu)
        {
            string? why = TryAddCuda(options, settings.CudaDeviceId);
            if (why is null) device = ExecutionDevice.Cuda;
            else if (settings.Device == ExecutionDevice.Cuda)
                throw UserInputException.ForOptions($"Device 'cuda' was requested for '{label}' but {why}; use {DeviceOption} cpu or auto, or {(HasCudaProvider() ? CudaRuntimeHint : CudaBuildHint)}.", [DeviceOption]);
            else if (Interlocked.Exchange(ref fallbackReported, 1) == 0)
                settings.Logger.LogInformation("ONNX Runtime: CUDA is not available ({Why}); running on CPU.", why);
        }

        InferenceSession session;
        try { session = factory(options); }
        catch (OnnxRuntimeException e)
        {
            throw new UserInputException($"ONNX Runtime could not load '{label}': {FirstLine(e.Message)}.", e);
        }
        var result = new OnnxSession(session, label, device, settings.CudaDeviceId);
        if (expected is not null)
        {
            var problems = result.Check(expected);
            if (problems.Count > 0)
            {
                result.Dispose();
                throw new UserInputException($"ONNX model '{label}' does not have the expected signature: {string.Join("; ", problems)}.");
            }
        }
        return result;
    }

    static string FirstLine(string s) => s.Split('\n')[0].TrimEnd('.', ' ', '\r');

    static bool HasCudaProvider() => OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");

    static string? TryAddCuda(SessionOptions options, int deviceId)
    {
        if (!HasCudaProvider())
            return "this build of ONNX Runtime has no CUDA execution provider";
        // A missing CUDA library makes ONNX Runtime log a page of its own before the exception below says the same:
        // quiet while trying, so the caller's one sentence (or the one fallback notice) is all that is printed.
        var env = OrtEnv.Instance();
        var level = env.EnvLogLevel;
        try
        {
            env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
            options.AppendExecutionProvider_CUDA(deviceId);
            return null;
        }
        catch (Exception e)
        {
            return $"the CUDA execution provider failed to start ({FirstLine(e.Message)})";
        }
        finally
        {
            env.EnvLogLevel = level;
        }
    }

    static TensorSpec Describe(string name, NodeMetadata meta)
    {
        if (!meta.IsTensor) return new TensorSpec(name, TensorElementType.DataTypeMax, 0);
        var dims = meta.Dimensions.Select(d => d < 0 ? (long?)null : d).ToArray();
        return new TensorSpec(name, meta.ElementDataType, dims.Length, dims);
    }

    /// <summary>Every way this model differs from <paramref name="expected"/>, one phrase each (empty when it matches).</summary>
    public List<string> Check(ModelSignature expected)
    {
        var problems = new List<string>();
        void Compare(string kind, IReadOnlyList<TensorSpec> want, IReadOnlyList<TensorSpec> have, bool exact)
        {
            foreach (var w in want)
            {
                var h = have.FirstOrDefault(x => x.Name == w.Name);
                if (h is null)
                {
                    problems.Add($"{kind} '{w.Name}' is missing (expected {w}; found {string.Join(", ", have.Select(x => x.Name))})");
                    continue;
                }
                bool typeOk = h.ElementType == w.ElementType || (w.ElementType == TensorElementType.Float && w.AcceptsFloat16 && h.ElementType == TensorElementType.Float16);
                if (!typeOk) problems.Add($"{kind} '{w.Name}' has element type {h.ElementType}, expected {w.ElementType}");
                if (h.Rank != w.Rank) problems.Add($"{kind} '{w.Name}' has rank {h.Rank} ({h}), expected rank {w.Rank} ({w})");
                else if (w.Dims is not null)
                    for (int i = 0; i < w.Rank; i++)
                        if (w.Dims[i] is long need && h.Dims![i] is long got && need != got)
                            problems.Add($"{kind} '{w.Name}' has size {got} in dimension {i}, expected {need}");
            }
            if (exact)
                foreach (var h in have.Where(h => want.All(w => w.Name != h.Name)))
                    problems.Add($"{kind} '{h.Name}' is not expected (expected only {string.Join(", ", want.Select(w => w.Name))})");
        }
        Compare("input", expected.Inputs, Inputs, exact: true);
        Compare("output", expected.Outputs, Outputs, exact: false);
        return problems;
    }

    /// <summary>Runs the model once; float inputs are converted to the model's float type and outputs come back as float32 (fp16 models).</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IEnumerable<string>? outputNames = null)
    {
        var names = (outputNames ?? Outputs.Select(o => o.Name)).ToList();
        var prepared = new List<Tensor>();
        var values = new Dictionary<string, OrtValue>();
        try
        {
            foreach (var spec in Inputs)
            {
                if (!inputs.TryGetValue(spec.Name, out var t))
                    throw new ArgumentException($"Model '{Label}' needs input '{spec.Name}' ({spec}); it was not given.");
                var ready = ToModelLayout(t, spec);
                prepared.Add(ready);
                values[spec.Name] = WrapTensor(ready);
            }
            using var results = session.Run(runOptions, values, names);
            var output = new Dictionary<string, Tensor>();
            int i = 0;
            foreach (var r in results)
                output[names[i++]] = FromOrtValue(r);
            return output;
        }
        finally
        {
            foreach (var v in values.Values) v.Dispose();
            foreach (var p in prepared) p.Dispose();
        }
    }

    /// <summary>
    /// Fixes input shapes and returns a reusable binding: write into its input tensors, call
    /// <see cref="BoundRun.Run"/>, read its output tensors. No allocation per call.
    /// </summary>
    public BoundRun Bind(IReadOnlyDictionary<string, long[]> inputShapes)
    {
        var inputTensors = new Dictionary<string, Tensor>();
        foreach (var spec in Inputs)
        {
            if (!inputShapes.TryGetValue(spec.Name, out var shape))
                throw new ArgumentException($"Model '{Label}': Bind needs a shape for input '{spec.Name}'.");
            inputTensors[spec.Name] = zeros(shape, dtype: ToScalar(spec.ElementType));
        }
        // One probing run tells the output shapes for these input shapes.
        var probe = Run(inputTensors);
        var outputTensors = Outputs.ToDictionary(o => o.Name, o => zeros(probe[o.Name].shape, dtype: ToScalar(o.ElementType)));
        foreach (var p in probe.Values) p.Dispose();
        return new BoundRun(session, inputTensors, outputTensors);
    }

    static ScalarType ToScalar(TensorElementType t) => TensorMemory.ScalarTypeOf(t);

    Tensor ToModelLayout(Tensor t, TensorSpec spec) => ToModelLayout(t, spec, CPU);

    /// <summary>An OrtValue over the tensor's own memory (no copy); the tensor must outlive it.</summary>
    internal static OrtValue WrapTensor(Tensor t) => TensorMemory.Wrap(t);

    static Tensor FromOrtValue(OrtValue value)
    {
        var result = CopyOf(value);
        return result.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? result.to(ScalarType.Float32) : result;
    }

    /// <summary>A new CPU tensor with a copy of an output ONNX Runtime allocated in CPU memory, in its own element type.</summary>
    static Tensor CopyOf(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var result = empty(info.Shape, dtype: ToScalar(info.ElementDataType));
        value.GetTensorDataAsSpan<byte>().CopyTo(result.bytes);
        return result;
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}

/// <summary>
/// Input and output tensors bound once to a session (IOBinding): each <see cref="Run"/> reuses the same
/// memory. Copy inputs in with <c>copy_</c>; outputs are overwritten by the next call.
/// </summary>
public sealed class BoundRun : IDisposable
{
    readonly InferenceSession session;
    readonly OrtIoBinding binding;
    readonly RunOptions runOptions = new();
    readonly List<OrtValue> values = new();

    internal BoundRun(InferenceSession session, Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> outputs)
    {
        this.session = session;
        Inputs = inputs;
        Outputs = outputs;
        binding = session.CreateIoBinding();
        foreach (var (name, t) in inputs)
        {
            var v = OnnxSession.WrapTensor(t);
            values.Add(v);
            binding.BindInput(name, v);
        }
        foreach (var (name, t) in outputs)
        {
            var v = OnnxSession.WrapTensor(t);
            values.Add(v);
            binding.BindOutput(name, v);
        }
    }

    public IReadOnlyDictionary<string, Tensor> Inputs { get; }
    public IReadOnlyDictionary<string, Tensor> Outputs { get; }

    public void Run() => session.RunWithBinding(runOptions, binding);

    public void Dispose()
    {
        binding.Dispose();
        foreach (var v in values) v.Dispose();
        runOptions.Dispose();
        foreach (var t in Inputs.Values) t.Dispose();
        foreach (var t in Outputs.Values) t.Dispose();
    }
}
