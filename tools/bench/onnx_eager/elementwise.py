"""Element-wise operators: arithmetic with broadcasting, comparisons and logic, unary functions, Clip, Cast."""

import functools

import torch

from .registry import DTYPES, OPS, op, scalar


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


def _variadic(pairwise):
    """Max and Min take any number of inputs, broadcast together."""
    return lambda m, a, *xs: functools.reduce(pairwise, xs)


OPS["Max"] = _variadic(torch.maximum)
OPS["Min"] = _variadic(torch.minimum)


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
