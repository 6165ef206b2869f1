"""Linear algebra and network operators: MatMul, Gemm, Conv, pooling, Softmax, normalisations, Dropout, Resize."""

import math

import numpy as np
import torch
import torch.nn.functional as F

from .registry import ints, op, scalar


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


def _pool(op_type, a, x, functions):
    """The pooling function of x's rank with ONNX's symmetric padding; asymmetric pads are not implemented."""
    nd = x.dim() - 2
    padding, explicit = _padding(a, nd)
    if explicit is not None:
        raise NotImplementedError(f"{op_type} with asymmetric pads")
    return functions[nd], nd, dict(stride=a.get("strides", [1] * nd), padding=padding, ceil_mode=bool(a.get("ceil_mode", 0)))


@op("AveragePool")
def _average_pool(m, a, x):
    fn, _, common = _pool("AveragePool", a, x, {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d})
    return fn(x, a["kernel_shape"], count_include_pad=bool(a.get("count_include_pad", 0)), **common)


@op("MaxPool")
def _max_pool(m, a, x):
    fn, nd, common = _pool("MaxPool", a, x, {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d})
    return fn(x, a["kernel_shape"], dilation=a.get("dilations", [1] * nd), **common)


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
