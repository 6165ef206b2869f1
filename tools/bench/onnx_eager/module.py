"""OnnxModule: an ONNX graph as a torch module (initializers as parameters, constant folding, graph-order execution)."""

import re

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

from . import elementwise, networks, shapes  # noqa: F401  (they fill OPS)
from .registry import OPS

# Ops whose result depends on the module's mode or on random draws: never folded into constants.
UNFOLDABLE = {"Dropout", "BatchNormalization"}
# Ops that receive the node's op type or its number of outputs.
NEEDS_OP_TYPE = {"Softmax", "LogSoftmax"}


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
            raise NotImplementedError(f"{self.label} uses operators onnx_eager does not implement: {', '.join(unsupported)}")

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
