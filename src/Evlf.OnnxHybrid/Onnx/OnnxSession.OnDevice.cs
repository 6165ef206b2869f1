using System.Text;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

// The tensor-in/tensor-out path: ONNX Runtime reads the inputs from, and writes the outputs into, TorchSharp tensors on
// the session's own device (IOBinding over TensorMemory), so with the CUDA provider latents need not visit the host.
public sealed partial class OnnxSession
{
    const int OutputShapeCacheCapacity = 64;

    // GPU ordinal of the CUDA execution provider (SessionSettings.CudaDeviceId).
    readonly int cudaDeviceId;
    // "input shapes | output names" → output shapes: known after the first call with those shapes, so later calls bind
    // outputs to tensors allocated in advance and ONNX Runtime writes straight into them.
    readonly Dictionary<string, long[][]> outputShapes = new(StringComparer.Ordinal);

    /// <summary>Where <see cref="RunOnDevice"/> takes its inputs and leaves its outputs: the CPU, or the GPU the CUDA provider runs on.</summary>
    public torch.Device TensorDevice => Device == ExecutionDevice.Cuda ? new torch.Device(DeviceType.CUDA, cudaDeviceId) : CPU;

    /// <summary>
    /// Runs the model over TorchSharp memory on <see cref="TensorDevice"/>: inputs are moved there if they are elsewhere and
    /// converted to the model's element types (float32 → float16 for fp16 models) on that device; ONNX Runtime reads them in
    /// place and writes its outputs into tensors allocated there (from the second call with the same input shapes on, the
    /// first call learns the output shapes). Float16 outputs come back as float32. For graphs whose output shapes follow
    /// from their input shapes alone, as every network here.
    /// </summary>
    public Dictionary<string, Tensor> RunOnDevice(IReadOnlyDictionary<string, Tensor> inputs, IEnumerable<string>? outputNames = null)
    {
        var names = (outputNames ?? Outputs.Select(o => o.Name)).ToList();
        var specs = names.Select(n => Outputs.FirstOrDefault(o => o.Name == n)
            ?? throw new ArgumentException($"Model '{Label}' has no output '{n}'; it has {string.Join(", ", Outputs.Select(o => o.Name))}.")).ToList();
        var device = TensorDevice;
        var prepared = new List<Tensor>();
        var values = new List<OrtValue>();
        var raw = new List<Tensor>();
        using var binding = session.CreateIoBinding();
        try
        {
            var key = new StringBuilder();
            foreach (var spec in Inputs)
            {
                if (!inputs.TryGetValue(spec.Name, out var t))
                    throw new ArgumentException($"Model '{Label}' needs input '{spec.Name}' ({spec}); it was not given.");
                var ready = ToModelLayout(t, spec, device);
                prepared.Add(ready);
                var value = TensorMemory.Wrap(ready);
                values.Add(value);
                binding.BindInput(spec.Name, value);
                key.Append(spec.Name).Append('=').AppendJoin(',', ready.shape).Append(';');
            }
            key.Append('|').AppendJoin(',', names);
            bool known = outputShapes.TryGetValue(key.ToString(), out var shapes);
            for (int i = 0; i < names.Count; i++)
            {
                if (known)
                {
                    var output = empty(shapes![i], dtype: ToScalar(specs[i].ElementType), device: device);
                    raw.Add(output);
                    var value = TensorMemory.Wrap(output);
                    values.Add(value);
                    binding.BindOutput(names[i], value);
                }
                else
                    binding.BindOutputToDevice(names[i], OrtMemoryInfo.DefaultInstance);
            }

            // libtorch and ONNX Runtime queue GPU work on different streams: the inputs must be written before ORT reads
            // them, and ORT's writes finished before libtorch reads the outputs.
            if (device.type == DeviceType.CUDA) cuda.synchronize(device);
            session.RunWithBinding(runOptions, binding);
            if (device.type == DeviceType.CUDA) binding.SynchronizeBoundOutputs();

            if (!known)
            {
                using var results = binding.GetOutputValues();
                foreach (var r in results) raw.Add(MoveTo(CopyOf(r), device));
                if (outputShapes.Count >= OutputShapeCacheCapacity) outputShapes.Clear();
                outputShapes[key.ToString()] = raw.Select(r => r.shape).ToArray();
            }

            var result = new Dictionary<string, Tensor>();
            for (int i = 0; i < names.Count; i++)
                result[names[i]] = raw[i].dtype is ScalarType.Float16 or ScalarType.BFloat16 ? Float32Of(raw[i]) : raw[i];
            raw.Clear();
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
            foreach (var p in prepared) p.Dispose();
            foreach (var r in raw) r.Dispose();  // only after a failure: handed over otherwise
        }
    }

    Tensor ToModelLayout(Tensor t, TensorSpec spec, torch.Device device)
    {
        if (t.dim() != spec.Rank)
            throw new ArgumentException($"Model '{Label}': input '{spec.Name}' must have rank {spec.Rank} ({spec}); got shape [{string.Join(",", t.shape)}].");
        return t.detach().to(ToScalar(spec.ElementType), device).contiguous();
    }

    static Tensor Float32Of(Tensor t)
    {
        var converted = t.to(ScalarType.Float32);
        t.Dispose();
        return converted;
    }

    static Tensor MoveTo(Tensor t, torch.Device device)
    {
        if (t.device_type == device.type) return t;
        var moved = t.to(device);
        t.Dispose();
        return moved;
    }
}
