"""Shape and indexing operators (Shape, Reshape, Transpose, Concat, Slice, Gather, Pad …) and reductions."""

import numpy as np
import torch
import torch.nn.functional as F

from .registry import OPS, ints, op, scalar


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
