namespace Evlf.OnnxHybrid.Onnx;

/// <summary>Where ONNX Runtime runs a model: <c>auto</c> picks CUDA when available, else CPU.</summary>
public enum ExecutionDevice
{
    Auto,
    Cpu,
    Cuda,
}
