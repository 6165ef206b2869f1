using System.Runtime.CompilerServices;
using Evlf.OnnxHybrid.Onnx;

namespace Evlf.OnnxHybrid.Tests;

/// <summary>
/// libtorch keeps one convolution switch per process, and the library turns oneDNN off for good the first time it
/// imports a graph with convolutions or trains a herding embedding (<see cref="ConvolutionBackend"/>). Tests run in
/// parallel, so without this a test that trains a network twice could see the switch flip between its two runs when
/// another test imports a graph at that moment: <c>IdcProtocolTests.ATinyIdcRunIsDeterministicForASeed</c> failed that
/// way in one full run (final losses 1.5882222 and 1.5882219: the second is what a run on the native kernels gives, a
/// run on oneDNN throughout gives 1.5882226, so the first run changed kernels partway). So the test process chooses
/// libtorch's native kernels before any test runs, and every in-process training sees one kernel family throughout.
/// `evlf eval`'s oneDNN classifiers are still tested, in child processes (EvlfProcess).
/// </summary>
static class ConvolutionKernels
{
#pragma warning disable CA2255 // a module initializer is what sets process-wide state before xunit starts any test
    [ModuleInitializer]
    internal static void ChooseOnceForTheProcess() => ConvolutionBackend.UseNativeKernels();
#pragma warning restore CA2255
}
