#!/usr/bin/python3
"""An ONNX -> PyTorch-eager interpreter for tools/reference (torch 1.13 and onnx 1.12, no onnxruntime).

The Python counterpart of the OnnxTorch importer (src/Evlf.OnnxHybrid/Onnx/OnnxTorchModule.cs), written for the
timing reference tools/reference/pipeline_reference.py: it loads an .onnx file with `onnx`, turns the initializers into
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
  - the graph is checked for operators this file does not implement: one error lists them all.
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
attributes, Softmax's opset < 13 flattening). tools/reference/test_onnx_eager.py checks each against torch written by
hand and whole graphs against stored outputs.
"""

import math
import re

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

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


# --------------------------------------------------------------------------------------------
# Element-wise
# --------------------------------------------------------------------------------------------

@op("Add")
def _add(m, a, x, y):
    return x + y


@op("Sub")
def _sub(m, a, x, y):
    return x - y


@op("Mul")
def _mul(m, a, x, y):
    return x * y


@op("Div")
def _div(m, a, x, y):
    if x.dtype.is_floating_point:
        return x / y
    return torch.div(x, y, rounding_mode="trunc")  # ONNX integer division truncates, as C does


@op("Pow")
def _pow(m, a, x, y):
    return torch.pow(x, y).to(x.dtype)  # the output has X's type


@op("Max")
def _max(m, a, *xs):
    out = xs[0]
    for x in xs[1:]:
        out = torch.maximum(out, x)
    return out


@op("Min")
def _min(m, a, *xs):
    out = xs[0]
    for x in xs[1:]:
        out = torch.minimum(out, x)
    return out


@op("Equal")
def _equal(m, a, x, y):
    return x == y


@op("Greater")
def _greater(m, a, x, y):
    return x > y


@op("Less")
def _less(m, a, x, y):
    return x < y


@op("And")
def _and(m, a, x, y):
    return x & y


@op("Or")
def _or(m, a, x, y):
    return x | y


@op("Not")
def _not(m, a, x):
    return ~x


@op("Where")
def _where(m, a, cond, x, y):
    return torch.where(cond.bool(), x, y)


UNARY = {
    "Sqrt": torch.sqrt, "Erf": torch.erf, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid, "Sin": torch.sin,
    "Cos": torch.cos, "Relu": torch.relu, "Exp": torch.exp, "Log": torch.log, "Neg": torch.neg, "Abs": torch.abs,
    "Reciprocal": torch.reciprocal, "Floor": torch.floor, "Ceil": torch.ceil,
}


def _unary(fn):
    return lambda m, a, x: fn(x)


for _name, _fn in UNARY.items():
    OPS[_name] = _unary(_fn)


@op("Identity")
def _identity(m, a, x):
    return x


@op("Clip")
def _clip(m, a, x, lo=None, hi=None):
    lo = a.get("min") if lo is None else scalar(lo)   # opset < 11 keeps the bounds in attributes
    hi = a.get("max") if hi is None else scalar(hi)
    return torch.clamp(x, lo, hi)


@op("Cast")
def _cast(m, a, x):
    dtype = DTYPES[a["to"]]
    if m.dtype is not None and dtype.is_floating_point:
        dtype = m.dtype  # a float64 parity run keeps float64 where the graph casts to float
    return x.to(dtype)


# --------------------------------------------------------------------------------------------
# Linear algebra and networks
# --------------------------------------------------------------------------------------------

@op("MatMul")
def _matmul(m, a, x, y):
    return torch.matmul(x, y)


@op("Gemm")
def _gemm(m, a, x, y, c=None):
    if a.get("transA", 0):
        x = x.t()
    if a.get("transB", 0):
        y = y.t()
    out = torch.matmul(x, y)
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    if alpha != 1.0:
        out = out * alpha
    if c is not None:
        out = out + (c if beta == 1.0 else beta * c)
    return out


def _padding(a, nd):
    """Symmetric padding for torch, or the explicit F.pad list when begin and end differ."""
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise NotImplementedError(f"auto_pad {a['auto_pad']} is not supported; export with explicit pads")
    pads = a.get("pads", [0] * (2 * nd))
    begin, end = pads[:nd], pads[nd:]
    if begin == end:
        return begin, None
    explicit = []
    for b, e in zip(reversed(begin), reversed(end)):
        explicit += [b, e]
    return [0] * nd, explicit


@op("Conv")
def _conv(m, a, x, w, b=None):
    nd = w.dim() - 2
    padding, explicit = _padding(a, nd)
    if explicit is not None:
        x = F.pad(x, explicit)
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    return fn(x, w, b, stride=a.get("strides", [1] * nd), padding=padding, dilation=a.get("dilations", [1] * nd),
              groups=a.get("group", 1))


@op("AveragePool")
def _average_pool(m, a, x):
    nd = x.dim() - 2
    padding, explicit = _padding(a, nd)
    if explicit is not None:
        raise NotImplementedError("AveragePool with asymmetric pads")
    fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
    kernel = a["kernel_shape"]
    return fn(x, kernel, stride=a.get("strides", [1] * nd), padding=padding, ceil_mode=bool(a.get("ceil_mode", 0)),
              count_include_pad=bool(a.get("count_include_pad", 0)))


@op("MaxPool")
def _max_pool(m, a, x):
    nd = x.dim() - 2
    padding, explicit = _padding(a, nd)
    if explicit is not None:
        raise NotImplementedError("MaxPool with asymmetric pads")
    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
    return fn(x, a["kernel_shape"], stride=a.get("strides", [1] * nd), padding=padding,
              dilation=a.get("dilations", [1] * nd), ceil_mode=bool(a.get("ceil_mode", 0)))


@op("GlobalAveragePool")
def _global_average_pool(m, a, x):
    return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


@op("Softmax", "LogSoftmax")
def _softmax(m, a, x, op_type="Softmax"):
    fn = torch.softmax if op_type == "Softmax" else torch.log_softmax
    if m.opset >= 13:
        return fn(x, a.get("axis", -1))
    # Opsets < 13: the input is coerced to 2-D at `axis` (default 1) and normalised over the second dimension.
    axis = a.get("axis", 1) % x.dim()
    shape = x.shape
    return fn(x.reshape(int(np.prod(shape[:axis], dtype=np.int64)), -1), 1).reshape(shape)


@op("LayerNormalization")
def _layer_norm(m, a, x, scale, bias=None):
    axis = a.get("axis", -1) % x.dim()
    eps = a.get("epsilon", 1e-5)
    shape = tuple(x.shape[axis:])
    if tuple(scale.shape) == shape and (bias is None or tuple(bias.shape) == shape):
        return F.layer_norm(x, shape, scale, bias, eps)
    dims = tuple(range(axis, x.dim()))
    mean = x.mean(dims, keepdim=True)
    var = (x - mean).pow(2).mean(dims, keepdim=True)
    y = (x - mean) / torch.sqrt(var + eps) * scale
    return y if bias is None else y + bias


@op("InstanceNormalization")
def _instance_norm(m, a, x, scale, bias):
    return F.instance_norm(x, weight=scale, bias=bias, eps=a.get("epsilon", 1e-5))


@op("BatchNormalization")
def _batch_norm(m, a, x, scale, bias, mean, var):
    eps = a.get("epsilon", 1e-5)
    if m.training or a.get("training_mode", 0):
        return F.batch_norm(x, None, None, scale, bias, True, 0.0, eps)
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)


@op("Dropout")
def _dropout(m, a, x, ratio=None, training_mode=None):
    p = a.get("ratio", 0.5) if ratio is None else float(scalar(ratio))
    training = m.training if training_mode is None else bool(scalar(training_mode))
    if not training or p == 0.0:
        return x, torch.ones_like(x, dtype=torch.bool)
    keep = torch.rand(x.shape, generator=m.generator, dtype=x.dtype) >= p
    return x * keep / (1.0 - p), keep


@op("Resize")
def _resize(m, a, x, roi=None, scales=None, sizes=None):
    nd = x.dim()
    if sizes is not None and sizes.numel() > 0:
        out = ints(sizes)
        factors = [o / i for o, i in zip(out, x.shape)]
    else:
        factors = [float(v) for v in scales.reshape(-1).tolist()]
        out = [int(math.floor(i * s)) for i, s in zip(x.shape, factors)]
    mode = a.get("mode", "nearest")
    transform = a.get("coordinate_transformation_mode", "half_pixel")
    if out[:2] != list(x.shape[:2]):
        raise NotImplementedError("Resize of the batch or channel axis")
    if mode == "linear":
        if transform not in ("half_pixel", "pytorch_half_pixel", "align_corners") or nd != 4:
            raise NotImplementedError(f"Resize linear with {transform} on a {nd}-D input")
        return F.interpolate(x, size=out[2:], mode="bilinear", align_corners=transform == "align_corners")
    if mode != "nearest":
        raise NotImplementedError(f"Resize mode {mode}")
    # Nearest: each output coordinate mapped back with the ONNX formula, rounded by nearest_mode, clamped.
    rounding = a.get("nearest_mode", "round_prefer_floor")
    for axis in range(2, nd):
        n_in, n_out, s = x.shape[axis], out[axis], factors[axis]
        if n_in == n_out:
            continue
        dst = torch.arange(n_out, dtype=torch.float64)
        if transform == "asymmetric":
            src = dst / s
        elif transform == "align_corners":
            src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else dst * 0
        elif transform in ("half_pixel", "pytorch_half_pixel"):
            src = (dst + 0.5) / s - 0.5
            if transform == "pytorch_half_pixel" and n_out == 1:
                src = dst * 0
        elif transform == "tf_half_pixel_for_nn":
            src = (dst + 0.5) / s
        else:
            raise NotImplementedError(f"Resize coordinate_transformation_mode {transform}")
        if rounding == "floor":
            idx = torch.floor(src)
        elif rounding == "ceil":
            idx = torch.ceil(src)
        elif rounding == "round_prefer_ceil":
            idx = torch.floor(src + 0.5)
        else:  # round_prefer_floor
            idx = torch.ceil(src - 0.5)
        x = x.index_select(axis, idx.clamp(0, n_in - 1).long())
    return x


# --------------------------------------------------------------------------------------------
# Shapes and indexing
# --------------------------------------------------------------------------------------------

@op("Shape")
def _shape(m, a, x):
    dims = list(x.shape)
    start, end = a.get("start", 0), a.get("end", len(dims))
    return torch.tensor(dims[start:end], dtype=torch.int64)


@op("Size")
def _size(m, a, x):
    return torch.tensor(x.numel(), dtype=torch.int64)


@op("Reshape")
def _reshape(m, a, x, shape):
    dims = ints(shape)
    if not a.get("allowzero", 0):
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


@op("Flatten")
def _flatten(m, a, x):
    axis = a.get("axis", 1) % (x.dim() + 1) if x.dim() else 0
    return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)


@op("Transpose")
def _transpose(m, a, x):
    return x.permute(a.get("perm", list(range(x.dim() - 1, -1, -1))))


def _axes(a, axes):
    """Axes from the input (opset >= 13) or the attribute (older opsets); None when neither is given."""
    if axes is not None:
        return ints(axes)
    return a.get("axes")


@op("Squeeze")
def _squeeze(m, a, x, axes=None):
    axes = _axes(a, axes)
    if axes is None:
        return x.squeeze()
    for axis in sorted((ax % x.dim() for ax in axes), reverse=True):
        x = x.squeeze(axis)
    return x


@op("Unsqueeze")
def _unsqueeze(m, a, x, axes=None):
    axes = _axes(a, axes)
    rank = x.dim() + len(axes)
    for axis in sorted(ax % rank for ax in axes):
        x = x.unsqueeze(axis)
    return x


@op("Concat")
def _concat(m, a, *xs):
    return torch.cat(xs, a["axis"])


@op("Split")
def _split(m, a, x, split=None, outputs=1):
    axis = a.get("axis", 0)
    sizes = ints(split) if split is not None else a.get("split")
    if sizes is None:
        n = a.get("num_outputs", outputs)
        size = -(-x.shape[axis] // n)  # ceil, as opset 18's num_outputs; equal parts when it divides
        sizes = [min(size, x.shape[axis] - i * size) for i in range(n)]
    return tuple(torch.split(x, sizes, dim=axis))


@op("Slice")
def _slice(m, a, x, starts=None, ends=None, axes=None, steps=None):
    if starts is None:  # opset < 10: attributes
        starts, ends, axes = a["starts"], a["ends"], a.get("axes")
    else:
        starts, ends = ints(starts), ints(ends)
        axes = ints(axes) if axes is not None else None
    axes = list(range(len(starts))) if axes is None else [ax % x.dim() for ax in axes]
    steps = [1] * len(starts) if steps is None else ints(steps)
    index = [slice(None)] * x.dim()
    backwards = []
    for s, e, axis, st in zip(starts, ends, axes, steps):
        n = x.shape[axis]
        s = s + n if s < 0 else s
        e = e + n if e < 0 else e
        if st > 0:
            index[axis] = slice(min(max(s, 0), n), min(max(e, 0), n), st)
        else:
            backwards.append((axis, torch.arange(min(max(s, 0), n - 1), min(max(e, -1), n - 1), st)))
    x = x[tuple(index)]
    for axis, idx in backwards:
        x = x.index_select(axis, idx)
    return x


@op("Gather")
def _gather(m, a, data, indices):
    axis = a.get("axis", 0) % data.dim()
    n = data.shape[axis]
    idx = indices.long()
    idx = torch.where(idx < 0, idx + n, idx)
    out = data.index_select(axis, idx.reshape(-1))
    return out.reshape(tuple(data.shape[:axis]) + tuple(idx.shape) + tuple(data.shape[axis + 1:]))


@op("Expand")
def _expand(m, a, x, shape):
    return x.expand(torch.broadcast_shapes(tuple(x.shape), tuple(ints(shape))))


@op("ConstantOfShape")
def _constant_of_shape(m, a, shape):
    value = a.get("value")
    if value is None:
        return torch.zeros(ints(shape), dtype=m.float_dtype)
    return torch.full(ints(shape), value.reshape(-1)[0].item(), dtype=value.dtype)


@op("Range")
def _range(m, a, start, limit, delta):
    return torch.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)


@op("Trilu")
def _trilu(m, a, x, k=None):
    k = 0 if k is None else int(scalar(k))
    return torch.triu(x, k) if a.get("upper", 1) else torch.tril(x, k)


@op("Pad")
def _pad(m, a, x, pads=None, value=None, axes=None):
    pads = ints(pads) if pads is not None else a["pads"]
    nd = len(pads) // 2
    axes = list(range(x.dim())) if axes is None else [ax % x.dim() for ax in ints(axes)]
    full = [0] * (2 * x.dim())
    for i, axis in enumerate(axes[:nd]):
        full[axis], full[x.dim() + axis] = pads[i], pads[nd + i]
    explicit = []
    for axis in reversed(range(x.dim())):
        explicit += [full[axis], full[x.dim() + axis]]
    mode = a.get("mode", "constant")
    if mode == "constant":
        fill = a.get("value", 0.0) if value is None else scalar(value)
        return F.pad(x, explicit, mode="constant", value=fill)
    # torch pads exactly the spatial axes (all but N and C) in these modes.
    if any(explicit[2 * (x.dim() - 2):]):
        raise NotImplementedError(f"Pad mode {mode} on the batch or channel axis")
    explicit = explicit[:2 * (x.dim() - 2)]
    return F.pad(x, explicit, mode={"reflect": "reflect", "edge": "replicate"}[mode])


def _reduce(fn):
    def run(m, a, x, axes=None):
        axes = _axes(a, axes)
        keep = bool(a.get("keepdims", 1))
        if not axes:
            if axes is not None and a.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.dim()))
        return fn(x, dim=tuple(ax % x.dim() for ax in axes), keepdim=keep)
    return run


OPS["ReduceMean"] = _reduce(torch.mean)
OPS["ReduceSum"] = _reduce(torch.sum)
OPS["ReduceMax"] = _reduce(torch.amax)


@op("ArgMax")
def _argmax(m, a, x):
    axis = a.get("axis", 0) % x.dim()
    keep = bool(a.get("keepdims", 1))
    if a.get("select_last_index", 0):
        n = x.shape[axis]
        return n - 1 - torch.argmax(x.flip(axis), dim=axis, keepdim=keep)
    return torch.argmax(x, dim=axis, keepdim=keep)


# Ops whose result depends on the module's mode or on random draws: never folded into constants.
UNFOLDABLE = {"Dropout", "BatchNormalization"}
# Ops that receive the node's op type or its number of outputs.
NEEDS_OP_TYPE = {"Softmax", "LogSoftmax"}


# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------

def to_torch(array, dtype=None):
    """A numpy array from an ONNX tensor as a torch tensor; floating values cast to `dtype` when given."""
    t = torch.from_numpy(np.array(array, copy=True))
    if dtype is not None and t.dtype.is_floating_point:
        t = t.to(dtype)
    return t


def attributes(node, dtype):
    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if attr.type == onnx.AttributeProto.TENSOR:
            value = to_torch(numpy_helper.to_array(value), dtype)
        elif isinstance(value, bytes):
            value = value.decode("utf-8")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode("utf-8") for v in value]
        out[attr.name] = value
    return out


def constant_value(a):
    """The value of a Constant node from whichever attribute it uses."""
    if "value" in a:
        return a["value"]
    for key, dtype in (("value_float", torch.float32), ("value_floats", torch.float32), ("value_int", torch.int64),
                       ("value_ints", torch.int64)):
        if key in a:
            return torch.tensor(a[key], dtype=dtype)
    raise NotImplementedError(f"Constant with attributes {sorted(a)}")


class Node:
    __slots__ = ("op_type", "fn", "inputs", "outputs", "attrs", "release", "extra")

    def __init__(self, proto, attrs):
        self.op_type = proto.op_type
        self.fn = OPS[proto.op_type]
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.attrs = attrs
        self.release = []
        self.extra = {}
        if proto.op_type in NEEDS_OP_TYPE:
            self.extra["op_type"] = proto.op_type
        if proto.op_type == "Split":
            self.extra["outputs"] = len(proto.output)


class OnnxModule(torch.nn.Module):
    """An ONNX graph as a torch module (see the file's docstring)."""

    def __init__(self, model, trainable=None, dtype=None, fold_constants=True):
        super().__init__()
        proto = onnx.load(model) if isinstance(model, str) else model
        self.label = model if isinstance(model, str) else proto.graph.name
        graph = proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.dtype = dtype
        self.float_dtype = dtype or torch.float32
        self.generator = None

        unsupported = sorted({n.op_type for n in graph.node if n.op_type not in OPS and n.op_type != "Constant"}
                             | {f"{n.domain}.{n.op_type}" for n in graph.node if n.domain not in ("", "ai.onnx")})
        if unsupported:
            raise NotImplementedError(f"{self.label} uses operators onnx_eager.py does not implement: {', '.join(unsupported)}")

        select = self._selector(trainable)
        self.params = torch.nn.ParameterDict()
        self.param_keys = {}
        constants = {}
        for init in graph.initializer:
            value = to_torch(numpy_helper.to_array(init), dtype)
            if value.dtype.is_floating_point and select(init.name):
                key = re.sub(r"[^0-9A-Za-z_]", "_", init.name)
                while key in self.params:
                    key += "_"
                self.params[key] = torch.nn.Parameter(value)
                self.param_keys[init.name] = key
            else:
                constants[init.name] = value
        initializer_names = {i.name for i in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in initializer_names]
        self.output_names = [o.name for o in graph.output]

        self.nodes = []
        for proto_node in graph.node:
            a = attributes(proto_node, dtype)
            if proto_node.op_type == "Constant":
                constants[proto_node.output[0]] = constant_value(a)
                continue
            node = Node(proto_node, a)
            if fold_constants and node.op_type not in UNFOLDABLE and all(not n or n in constants for n in node.inputs):
                for name, value in zip(node.outputs, self._call(node, [constants[n] if n else None for n in node.inputs])):
                    if name:
                        constants[name] = value
                continue
            self.nodes.append(node)
        self.constants = constants

        # Free every intermediate value after the node that reads it last.
        last = {}
        for i, node in enumerate(self.nodes):
            for name in node.inputs:
                last[name] = i
        keep = set(self.output_names) | set(constants) | set(self.param_keys)
        for name, i in last.items():
            if name and name not in keep:
                self.nodes[i].release.append(name)

    @staticmethod
    def _selector(trainable):
        if trainable is None or trainable is False:
            return lambda name: False
        if trainable is True:
            return lambda name: True
        if isinstance(trainable, str):
            pattern = re.compile(trainable)
            return lambda name: pattern.search(name) is not None
        return trainable

    def _call(self, node, args):
        while args and args[-1] is None:  # trailing optional inputs left out
            args.pop()
        out = node.fn(self, node.attrs, *args, **node.extra)
        return out if isinstance(out, tuple) else (out,)

    def named_onnx_parameters(self):
        """(initializer name, nn.Parameter) of every trainable initializer, in graph order."""
        return [(name, self.params[key]) for name, key in self.param_keys.items()]

    def initializer(self, name):
        """The current value of an initializer (trained or constant)."""
        return self.params[self.param_keys[name]] if name in self.param_keys else self.constants[name]

    def forward(self, *args, **feeds):
        feeds.update(zip(self.input_names, args))
        return self.run(feeds)

    def run(self, feeds):
        missing = [n for n in self.input_names if n not in feeds]
        if missing:
            raise ValueError(f"{self.label} needs inputs {missing}; got {sorted(feeds)}")
        env = dict(self.constants)
        for name, key in self.param_keys.items():
            env[name] = self.params[key]
        env.update(feeds)
        for node in self.nodes:
            outs = self._call(node, [env[n] if n else None for n in node.inputs])
            for name, value in zip(node.outputs, outs):
                if name:
                    env[name] = value
            for name in node.release:
                env.pop(name, None)
        return {name: env[name] for name in self.output_names}


def op_types(path):
    """The operator types a model file uses, with counts (Constant included), for documentation and tests."""
    counts = {}
    for node in onnx.load(path, load_external_data=False).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items()))
