using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using TorchSharp;
using static TorchSharp.torch;

namespace Evlf.OnnxHybrid.Onnx;

/// <summary>
/// OrtValues over a TorchSharp tensor's own memory, so ONNX Runtime reads inputs from and writes outputs into tensors
/// without a copy: CPU tensors through <see cref="OrtMemoryInfo.DefaultInstance"/>, CUDA tensors through a CUDA
/// <see cref="OrtMemoryInfo"/> over the device pointer (ONNX Runtime's CUDA provider then reads and writes the GPU memory
/// libtorch allocated). The tensor must be contiguous and outlive the OrtValue.
/// </summary>
internal static class TensorMemory
{
    /// <summary>An OrtValue over <paramref name="t"/>'s elements (no copy).</summary>
    public static unsafe OrtValue Wrap(Tensor t)
    {
        if (!t.is_contiguous())
            throw new ArgumentException($"Only a contiguous tensor can be shared with ONNX Runtime; got shape [{string.Join(",", t.shape)}] with strides [{string.Join(",", t.stride())}].", nameof(t));
        var element = ElementType(t.dtype);
        switch (t.device_type)
        {
            case DeviceType.CPU:
                var span = t.bytes;
                fixed (byte* p = span)
                    return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, element, t.shape, (IntPtr)p, span.Length);
            case DeviceType.CUDA:
                return OrtValue.CreateTensorValueWithData(CudaMemory(t.device_index), element, t.shape, DevicePointer(t), t.numel() * t.ElementSize);
            default:
                throw new NotSupportedException($"ONNX Runtime cannot read tensors on device {t.device}; expected the CPU or CUDA.");
        }
    }

    /// <summary>Where ONNX Runtime finds memory of <paramref name="device"/>: the default CPU allocator, or CUDA device memory of that GPU.</summary>
    public static OrtMemoryInfo Info(Device device) => device.type switch
    {
        DeviceType.CPU => OrtMemoryInfo.DefaultInstance,
        DeviceType.CUDA => CudaMemory(device.index),
        _ => throw new NotSupportedException($"ONNX Runtime cannot use memory of device {device}; expected the CPU or CUDA."),
    };

    // One OrtMemoryInfo per GPU, kept for the process like OrtMemoryInfo.DefaultInstance (they describe memory, own none).
    static readonly Dictionary<int, OrtMemoryInfo> cudaInfos = new();

    static OrtMemoryInfo CudaMemory(int index)
    {
        int gpu = Math.Max(0, index);  // libtorch's "current device" (-1) is GPU 0 here: nothing switches devices
        lock (cudaInfos)
        {
            if (!cudaInfos.TryGetValue(gpu, out var info))
                cudaInfos[gpu] = info = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, gpu, OrtMemType.Default);
            return info;
        }
    }

    /// <summary>
    /// The address of a CUDA tensor's first element. TorchSharp's public accessors (<c>bytes</c>, <c>data&lt;T&gt;</c>) refuse
    /// non-CPU tensors, so this asks LibTorchSharp's own <c>THSTensor_data</c> (at::Tensor::data_ptr, storage offset
    /// included) in the copy of the library TorchSharp loaded.
    /// </summary>
    static unsafe IntPtr DevicePointer(Tensor t)
    {
        var data = (delegate* unmanaged<IntPtr, IntPtr>)TensorData.Value;
        IntPtr p = data(t.Handle);
        if (p == IntPtr.Zero) throw new InvalidOperationException($"libtorch gave no data pointer for a tensor on {t.device}.");
        return p;
    }

    static readonly Lazy<IntPtr> TensorData = new(() =>
    {
        // Resolved as TorchSharp's own DllImport("LibTorchSharp") is, so it is the library already in the process.
        var handle = NativeLibrary.Load("LibTorchSharp", typeof(torch).Assembly, null);
        return NativeLibrary.GetExport(handle, "THSTensor_data");
    });

    /// <summary>ONNX Runtime's element type of a TorchSharp dtype.</summary>
    public static TensorElementType ElementType(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Float32 => TensorElementType.Float,
        torch.ScalarType.Float16 => TensorElementType.Float16,
        torch.ScalarType.Float64 => TensorElementType.Double,
        torch.ScalarType.Int64 => TensorElementType.Int64,
        torch.ScalarType.Int32 => TensorElementType.Int32,
        torch.ScalarType.Bool => TensorElementType.Bool,
        torch.ScalarType.Byte => TensorElementType.UInt8,
        torch.ScalarType.Int8 => TensorElementType.Int8,
        torch.ScalarType.BFloat16 => TensorElementType.BFloat16,
        _ => throw new NotSupportedException($"TorchSharp type {t} is not supported by ONNX Runtime here."),
    };

    /// <summary>The TorchSharp dtype of an ONNX Runtime element type.</summary>
    public static torch.ScalarType ScalarTypeOf(TensorElementType t) => t switch
    {
        TensorElementType.Float => torch.ScalarType.Float32,
        TensorElementType.Float16 => torch.ScalarType.Float16,
        TensorElementType.Double => torch.ScalarType.Float64,
        TensorElementType.Int64 => torch.ScalarType.Int64,
        TensorElementType.Int32 => torch.ScalarType.Int32,
        TensorElementType.Bool => torch.ScalarType.Bool,
        TensorElementType.UInt8 => torch.ScalarType.Byte,
        TensorElementType.Int8 => torch.ScalarType.Int8,
        TensorElementType.BFloat16 => torch.ScalarType.BFloat16,
        _ => throw new NotSupportedException($"ONNX Runtime element type {t} is not supported."),
    };
}
