"""The operator table of onnx_eager: OPS maps an ONNX op type to fn(module, attributes, *inputs), filled by @op."""

import torch
from onnx import TensorProto

DTYPES = {
    TensorProto.FLOAT: torch.float32, TensorProto.DOUBLE: torch.float64, TensorProto.FLOAT16: torch.float16,
    TensorProto.BFLOAT16: torch.bfloat16, TensorProto.INT64: torch.int64, TensorProto.INT32: torch.int32,
    TensorProto.INT16: torch.int16, TensorProto.INT8: torch.int8, TensorProto.UINT8: torch.uint8,
    TensorProto.BOOL: torch.bool,
}

OPS = {}


def op(*names):
    def register(fn):
        for name in names:
            OPS[name] = fn
        return fn
    return register


def ints(t):
    """A 1-D int64 tensor (shape, axes, pads …) as a Python list."""
    return [int(v) for v in t.reshape(-1).tolist()]


def scalar(t):
    return t.reshape(-1)[0].item()
