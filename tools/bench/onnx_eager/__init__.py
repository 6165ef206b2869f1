"""An ONNX -> PyTorch-eager interpreter for tools/bench (torch 1.13 and onnx 1.12, no onnxruntime).

The Python counterpart of the OnnxTorch importer (src/Evlf.OnnxHybrid/Onnx/OnnxTorchModule.cs), written for the
timing reference tools/bench/pipeline_reference.py: it loads an .onnx file with `onnx`, turns the initializers into
torch tensors (a chosen subset into nn.Parameters that train), and executes the nodes in graph order with torch ops,
so autograd flows through the graph as through a hand-written nn.Module.

    from onnx_eager import OnnxModule
    dit = OnnxModule("models/fmnist-ldm/dit.onnx").eval()
    with torch.no_grad():
        out = dit(x=x, t=t, y=y)["out"]

    fusion = OnnxModule("fusion.onnx", trainable=True)      # or a regex over initializer names
    optimizer = torch.optim.AdamW(fusion.parameters(), lr=3e-4)

Loading:
  - initializers become float tensors (optionally cast to `dtype`, e.g. float64 for parity checks); those selected by
    `trainable` (True: every floating initializer; a str: a regex searched in the name; a callable: name -> bool)
    become nn.Parameters, the rest constants;
  - Constant nodes are evaluated once, and so is every node whose inputs are all constants (constant folding, as
    ONNX Runtime does at session start); Dropout and BatchNormalization are never folded (they depend on the mode);
  - the graph is checked for operators this package does not implement: one error lists them all.
Running: `module(**feeds)` or `module.run(feeds)` returns {output name: tensor}. Values are freed after their last use.
train()/eval() switch Dropout (drawn from `module.generator`, when set) and BatchNormalization (batch statistics in
training; running statistics are not updated).

The default bundle (models/fmnist-ldm: VAE encoder/decoder, DiT, UNet) and all-MiniLM-L6-v2 use Add, Cast, Concat,
Constant, Conv, Cos, Div, Erf, Gather, Gemm, InstanceNormalization, LayerNormalization, MatMul, Mul, Pow, ReduceMean,
Reshape, Resize, Shape, Sigmoid, Sin, Slice, Softmax, Split, Sqrt, Sub, Tanh, Transpose and Unsqueeze; the
GraphBuilder fusion graphs add Dropout, Relu, Flatten and AveragePool, the exported test fixtures ConstantOfShape,
Equal, Expand, Range, Trilu, ArgMax, Where, Squeeze, Clip, Pad, BatchNormalization and GlobalAveragePool.
The operators are listed in OPS; each follows the ONNX operator specification (https://onnx.ai/onnx/operators/) for
opsets 11-17, including the older-opset forms that exported graphs use (Split/Squeeze/Unsqueeze/ReduceMean with
attributes, Softmax's opset < 13 flattening). tools/bench/test_onnx_eager_ops.py checks each against torch written by
hand, test_onnx_eager_graphs.py whole graphs against stored outputs.

Modules: registry (OPS, the @op decorator, dtypes), elementwise, networks (linear algebra, convolution, pooling,
normalisation, resize), shapes (shapes, indexing, reductions), module (OnnxModule: loading, folding, running).
"""

from .module import OnnxModule, op_types  # importing the module registers every operator
from .registry import OPS

__all__ = ["OnnxModule", "OPS", "op_types"]
