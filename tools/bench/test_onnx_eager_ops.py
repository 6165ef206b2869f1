#!/usr/bin/python3
"""Checks every operator of tools/bench/onnx_eager (onnx_eager.OPS, and Constant) on a one-node graph against torch
written out by hand (a few seconds on 2 cores):

    /usr/bin/python3 -m unittest tools/bench/test_onnx_eager_ops.py
"""

import math
import os
import sys
import unittest

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_eager  # noqa: E402
from onnx_eager import OnnxModule  # noqa: E402

ELEMENT = {torch.float32: TensorProto.FLOAT, torch.float64: TensorProto.DOUBLE, torch.int64: TensorProto.INT64,
           torch.int32: TensorProto.INT32, torch.bool: TensorProto.BOOL, torch.uint8: TensorProto.UINT8}


def one_node(op_type, inputs, attrs=None, outputs=1, opset=17):
    """A model of one node whose inputs are all graph inputs (so nothing is constant-folded). `inputs` is a list of
    (name, tensor) or None for a left-out optional input; returns the module and the feeds."""
    names = [name if value is not None else "" for name, value in ((i or ("", None)) for i in inputs)]
    while names and not names[-1]:
        names.pop()
    feeds = {name: value for name, value in (i for i in inputs if i is not None)}
    out_names = [f"y{k}" for k in range(outputs)]
    node = helper.make_node(op_type, names, out_names, **(attrs or {}))
    graph = helper.make_graph(
        [node], op_type,
        [helper.make_tensor_value_info(n, ELEMENT[v.dtype], list(v.shape)) for n, v in feeds.items()],
        [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in out_names])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return OnnxModule(model), feeds


def run(op_type, inputs, attrs=None, outputs=1, opset=17):
    module, feeds = one_node(op_type, inputs, attrs, outputs, opset)
    out = module.eval().run(feeds)
    values = [out[f"y{k}"] for k in range(outputs)]
    return values[0] if outputs == 1 else values


G = torch.Generator().manual_seed(0)


def r(*shape):
    return torch.randn(*shape, generator=G)


def i64(*values):
    return torch.tensor(values, dtype=torch.int64)


class OperatorTest(unittest.TestCase):
    covered = set()
    ran = set()

    def setUp(self):
        OperatorTest.ran.add(self._testMethodName)

    def check(self, op_type, got, expected, tol=1e-6):
        OperatorTest.covered.add(op_type)
        self.assertEqual(tuple(got.shape), tuple(expected.shape), op_type)
        self.assertEqual(got.dtype, expected.dtype, op_type)
        if got.dtype == torch.bool or not got.dtype.is_floating_point:
            self.assertTrue(torch.equal(got, expected), f"{op_type}: {got} != {expected}")
        else:
            self.assertLess(float((got - expected).abs().max()) if got.numel() else 0.0, tol, op_type)

    def test_binary_elementwise_with_broadcasting(self):
        x, y = r(2, 3, 4), r(3, 1)
        self.check("Add", run("Add", [("x", x), ("y", y)]), x + y)
        self.check("Sub", run("Sub", [("x", x), ("y", y)]), x - y)
        self.check("Mul", run("Mul", [("x", x), ("y", y)]), x * y)
        self.check("Div", run("Div", [("x", x), ("y", y)]), x / y)
        # integer division truncates toward zero: -7 / 2 = -3
        self.check("Div", run("Div", [("x", i64(-7, 7, 9)), ("y", i64(2, 2, -4))]), i64(-3, 3, -2))
        p = x.abs() + 0.5
        self.check("Pow", run("Pow", [("x", p), ("y", torch.tensor(2.5, dtype=torch.float64))]), p ** 2.5)
        self.check("Max", run("Max", [("a", x), ("b", y), ("c", torch.zeros(4))]),
                   torch.where(torch.where(x > y, x, y) > 0, torch.where(x > y, x, y), torch.zeros(())))
        self.check("Min", run("Min", [("a", x), ("b", y)]), torch.where(x < y, x, y))

    def test_comparisons_logic_and_where(self):
        a, b = i64(1, 5, 3), i64(2, 5, 1)
        self.check("Equal", run("Equal", [("a", a), ("b", b)]), torch.tensor([False, True, False]))
        self.check("Greater", run("Greater", [("a", a), ("b", b)]), torch.tensor([False, False, True]))
        self.check("Less", run("Less", [("a", a), ("b", b)]), torch.tensor([True, False, False]))
        p, q = torch.tensor([True, True, False]), torch.tensor([True, False, False])
        self.check("And", run("And", [("p", p), ("q", q)]), torch.tensor([True, False, False]))
        self.check("Or", run("Or", [("p", p), ("q", q)]), torch.tensor([True, True, False]))
        self.check("Not", run("Not", [("p", p)]), torch.tensor([False, False, True]))
        x, y = r(3), r(3)
        self.check("Where", run("Where", [("c", q), ("x", x), ("y", y)]), torch.stack([x[0], y[1], y[2]]))

    def test_unary(self):
        x = r(2, 5)
        pos = x.abs() + 0.1
        cases = {
            "Sqrt": (pos, torch.tensor([[math.sqrt(v) for v in row] for row in pos.tolist()])),
            "Erf": (x, torch.tensor([[math.erf(v) for v in row] for row in x.tolist()])),
            "Tanh": (x, torch.tensor([[math.tanh(v) for v in row] for row in x.tolist()])),
            "Sigmoid": (x, 1 / (1 + torch.exp(-x))),
            "Sin": (x, torch.tensor([[math.sin(v) for v in row] for row in x.tolist()])),
            "Cos": (x, torch.tensor([[math.cos(v) for v in row] for row in x.tolist()])),
            "Relu": (x, x * (x > 0)),
            "Exp": (x, torch.tensor([[math.exp(v) for v in row] for row in x.tolist()])),
            "Log": (pos, torch.tensor([[math.log(v) for v in row] for row in pos.tolist()])),
            "Neg": (x, 0 - x),
            "Abs": (x, torch.where(x < 0, -x, x)),
            "Reciprocal": (pos, 1 / pos),
            "Floor": (x * 3, torch.tensor([[float(math.floor(v)) for v in row] for row in (x * 3).tolist()])),
            "Ceil": (x * 3, torch.tensor([[float(math.ceil(v)) for v in row] for row in (x * 3).tolist()])),
            "Identity": (x, x),
        }
        for op_type, (value, expected) in cases.items():
            with self.subTest(op=op_type):
                self.check(op_type, run(op_type, [("x", value)]), expected.to(torch.float32), tol=2e-6)

    def test_clip_and_cast(self):
        x = r(4, 3)
        self.check("Clip", run("Clip", [("x", x), ("lo", torch.tensor(-0.5)), ("hi", torch.tensor(0.25))]),
                   torch.where(x < -0.5, torch.tensor(-0.5), torch.where(x > 0.25, torch.tensor(0.25), x)))
        self.check("Clip", run("Clip", [("x", x), None, ("hi", torch.tensor(0.0))]), torch.where(x > 0, 0 * x, x))
        self.check("Cast", run("Cast", [("x", torch.tensor([1.7, -2.2, 3.0]))], {"to": TensorProto.INT64}), i64(1, -2, 3))
        self.check("Cast", run("Cast", [("x", i64(1, 0, 3))], {"to": TensorProto.BOOL}), torch.tensor([True, False, True]))

    def test_matmul_and_gemm(self):
        a, b = r(2, 3, 4), r(4, 5)
        expected = torch.stack([torch.tensor([[sum(a[n, i, k] * b[k, j] for k in range(4)) for j in range(5)]
                                              for i in range(3)]) for n in range(2)])
        self.check("MatMul", run("MatMul", [("a", a), ("b", b)]), expected, tol=1e-5)
        a, b, c = r(4, 3), r(5, 4), r(5)
        self.check("Gemm", run("Gemm", [("a", a), ("b", b), ("c", c)], {"alpha": 0.5, "beta": 2.0, "transA": 1, "transB": 1}),
                   0.5 * (a.t() @ b.t()) + 2.0 * c, tol=1e-5)
        self.check("Gemm", run("Gemm", [("a", a.t()), ("b", b.t())]), a.t() @ b.t(), tol=1e-5)

    def test_conv(self):
        x, w, b = r(2, 3, 6, 5), r(4, 3, 3, 3), r(4)

        def direct(x, w, b, stride, top, left, bottom, right, dilation=1):
            xp = torch.zeros(x.shape[0], x.shape[1], x.shape[2] + top + bottom, x.shape[3] + left + right)
            xp[:, :, top:top + x.shape[2], left:left + x.shape[3]] = x
            k = w.shape[2]
            span = dilation * (k - 1) + 1
            oh, ow = (xp.shape[2] - span) // stride + 1, (xp.shape[3] - span) // stride + 1
            out = torch.zeros(x.shape[0], w.shape[0], oh, ow)
            for i in range(oh):
                for j in range(ow):
                    patch = xp[:, :, i * stride:i * stride + span:dilation, j * stride:j * stride + span:dilation]
                    out[:, :, i, j] = torch.einsum("nchw,ochw->no", patch, w) + b
            return out

        self.check("Conv", run("Conv", [("x", x), ("w", w), ("b", b)], {"pads": [1, 1, 1, 1]}),
                   direct(x, w, b, 1, 1, 1, 1, 1), tol=1e-5)
        self.check("Conv", run("Conv", [("x", x), ("w", w), ("b", b)], {"pads": [0, 1, 2, 0], "strides": [2, 2]}),
                   direct(x, w, b, 2, 0, 1, 2, 0), tol=1e-5)
        self.check("Conv", run("Conv", [("x", x), ("w", w), ("b", b)], {"dilations": [2, 2], "pads": [2, 2, 2, 2]}),
                   direct(x, w, b, 1, 2, 2, 2, 2, dilation=2), tol=1e-5)
        wg = r(4, 1, 1, 1)  # depthwise-style groups: output channel o reads input channel o // 2
        xg = r(1, 2, 3, 3)
        expected = torch.stack([xg[0, o // 2] * wg[o, 0, 0, 0] for o in range(4)]).unsqueeze(0)
        self.check("Conv", run("Conv", [("x", xg), ("w", wg)], {"group": 2}), expected)

    def test_pools(self):
        x = r(1, 2, 4, 6)
        blocks = x.reshape(1, 2, 2, 2, 3, 2).permute(0, 1, 2, 4, 3, 5)
        self.check("AveragePool", run("AveragePool", [("x", x)], {"kernel_shape": [2, 2], "strides": [2, 2]}),
                   blocks.reshape(1, 2, 2, 3, 4).mean(-1))
        self.check("MaxPool", run("MaxPool", [("x", x)], {"kernel_shape": [2, 2], "strides": [2, 2]}),
                   blocks.reshape(1, 2, 2, 3, 4).max(-1).values)
        self.check("GlobalAveragePool", run("GlobalAveragePool", [("x", x)]),
                   (x.sum((2, 3)) / 24).reshape(1, 2, 1, 1))

    def test_softmax_both_opset_forms(self):
        x = r(2, 3, 4)
        e = torch.exp(x - x.max(-1, keepdim=True).values)
        self.check("Softmax", run("Softmax", [("x", x)], {"axis": -1}), e / e.sum(-1, keepdim=True))
        self.check("LogSoftmax", run("LogSoftmax", [("x", x)], {"axis": -1}), torch.log(e / e.sum(-1, keepdim=True)))
        # opset 11, axis 1: the input is flattened to (2, 12) and normalised over all 12
        flat = x.reshape(2, 12)
        e = torch.exp(flat - flat.max(1, keepdim=True).values)
        self.check("Softmax", run("Softmax", [("x", x)], {"axis": 1}, opset=11), (e / e.sum(1, keepdim=True)).reshape(2, 3, 4))

    def test_normalisations(self):
        x, s, b = r(2, 3, 5), r(5), r(5)
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        self.check("LayerNormalization", run("LayerNormalization", [("x", x), ("s", s), ("b", b)], {"epsilon": 1e-5}),
                   (x - mean) / torch.sqrt(var + 1e-5) * s + b, tol=1e-5)
        s2 = r(3, 5)  # normalised over the last two axes
        mean2 = x.mean((1, 2), keepdim=True)
        var2 = ((x - mean2) ** 2).mean((1, 2), keepdim=True)
        self.check("LayerNormalization", run("LayerNormalization", [("x", x), ("s", s2)], {"axis": 1}),
                   (x - mean2) / torch.sqrt(var2 + 1e-5) * s2, tol=1e-5)
        x4, s4, b4 = r(2, 3, 4, 4), r(3), r(3)
        m4 = x4.mean((2, 3), keepdim=True)
        v4 = ((x4 - m4) ** 2).mean((2, 3), keepdim=True)
        self.check("InstanceNormalization", run("InstanceNormalization", [("x", x4), ("s", s4), ("b", b4)], {"epsilon": 1e-6}),
                   (x4 - m4) / torch.sqrt(v4 + 1e-6) * s4.view(1, 3, 1, 1) + b4.view(1, 3, 1, 1), tol=1e-5)
        rm, rv = r(3), r(3).abs() + 0.5
        self.check("BatchNormalization", run("BatchNormalization", [("x", x4), ("s", s4), ("b", b4), ("m", rm), ("v", rv)]),
                   (x4 - rm.view(1, 3, 1, 1)) / torch.sqrt(rv.view(1, 3, 1, 1) + 1e-5) * s4.view(1, 3, 1, 1) + b4.view(1, 3, 1, 1),
                   tol=1e-5)
        # training: the batch's own statistics (biased variance over N, H, W)
        module, feeds = one_node("BatchNormalization", [("x", x4), ("s", s4), ("b", b4), ("m", rm), ("v", rv)])
        mb = x4.mean((0, 2, 3), keepdim=True)
        vb = ((x4 - mb) ** 2).mean((0, 2, 3), keepdim=True)
        self.check("BatchNormalization", module.train().run(feeds)["y0"],
                   (x4 - mb) / torch.sqrt(vb + 1e-5) * s4.view(1, 3, 1, 1) + b4.view(1, 3, 1, 1), tol=1e-5)

    def test_dropout_is_identity_in_eval_and_scales_kept_values_in_training(self):
        x = r(4, 50)
        self.check("Dropout", run("Dropout", [("x", x), ("ratio", torch.tensor(0.25))]), x)
        module, feeds = one_node("Dropout", [("x", x), ("ratio", torch.tensor(0.25))], outputs=2)
        module.train()
        module.generator = torch.Generator().manual_seed(3)
        out = module.run(feeds)
        y, mask = out["y0"], out["y1"]
        self.check("Dropout", y, torch.where(mask, x / 0.75, torch.zeros(())))
        self.assertTrue(0.6 < float(mask.float().mean()) < 0.9)
        module.generator = torch.Generator().manual_seed(3)
        self.assertTrue(torch.equal(module.run(feeds)["y1"], mask), "the generator makes the mask reproducible")

    def test_resize(self):
        x = r(1, 2, 3, 4)
        # nearest, asymmetric, floor (GraphBuilder's UpsampleNearest): each pixel repeated
        up = x.repeat_interleave(2, 2).repeat_interleave(2, 3)
        self.check("Resize", run("Resize", [("x", x), None, ("s", torch.tensor([1.0, 1.0, 2.0, 2.0]))],
                                 {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}), up)
        # nearest by sizes with the default half_pixel / round_prefer_floor: 4 -> 3 picks columns 0, 1, 3
        # (x_orig = (i + 0.5)·4/3 − 0.5 = 0.17, 1.5, 2.83 -> 0, 1 (ties go down), 3)
        self.check("Resize", run("Resize", [("x", x), None, None, ("n", i64(1, 2, 3, 3))], {"mode": "nearest"}),
                   x[:, :, :, [0, 1, 3]])
        # linear, half_pixel, 2x: interior output 1 of a row is 0.75·x0 + 0.25·x1, and edges clamp
        row = r(1, 1, 1, 3)
        got = run("Resize", [("x", row), None, ("s", torch.tensor([1.0, 1.0, 1.0, 2.0]))], {"mode": "linear"})
        v = row.flatten()
        expected = torch.stack([v[0], 0.75 * v[0] + 0.25 * v[1], 0.25 * v[0] + 0.75 * v[1],
                                0.75 * v[1] + 0.25 * v[2], 0.25 * v[1] + 0.75 * v[2], v[2]]).view(1, 1, 1, 6)
        self.check("Resize", got, expected)

    def test_shapes(self):
        x = r(2, 3, 4)
        self.check("Shape", run("Shape", [("x", x)]), i64(2, 3, 4))
        self.check("Shape", run("Shape", [("x", x)], {"start": 1}), i64(3, 4))
        self.check("Size", run("Size", [("x", x)]), torch.tensor(24))
        self.check("Reshape", run("Reshape", [("x", x), ("s", i64(0, -1, 2))]), x.view(2, 6, 2))
        self.check("Flatten", run("Flatten", [("x", x)], {"axis": 2}), x.view(6, 4))
        self.check("Flatten", run("Flatten", [("x", x)]), x.view(2, 12))
        self.check("Transpose", run("Transpose", [("x", x)], {"perm": [1, 2, 0]}),
                   torch.stack([torch.stack([x[:, i, j] for j in range(4)]) for i in range(3)]))
        self.check("Transpose", run("Transpose", [("x", x)]), x.permute(2, 1, 0))
        u = r(1, 3, 1, 2)
        self.check("Squeeze", run("Squeeze", [("x", u), ("a", i64(0, -2))]), u.view(3, 2))
        self.check("Squeeze", run("Squeeze", [("x", u)], {"axes": [2]}, opset=11), u.view(1, 3, 2))
        self.check("Squeeze", run("Squeeze", [("x", u)]), u.view(3, 2))
        self.check("Unsqueeze", run("Unsqueeze", [("x", x), ("a", i64(0, -1))]), x.view(1, 2, 3, 4, 1))
        self.check("Unsqueeze", run("Unsqueeze", [("x", x)], {"axes": [1]}, opset=11), x.view(2, 1, 3, 4))

    def test_concat_split_slice_gather(self):
        a, b = r(2, 3), r(2, 1)
        self.check("Concat", run("Concat", [("a", a), ("b", b)], {"axis": 1}),
                   torch.tensor([a[0].tolist() + b[0].tolist(), a[1].tolist() + b[1].tolist()]))
        x = r(2, 6)
        p, q = run("Split", [("x", x), ("s", i64(2, 4))], {"axis": 1}, outputs=2)
        self.check("Split", p, x[:, 0:2])
        self.check("Split", q, x[:, 2:6])
        p, q, s = run("Split", [("x", x)], {"axis": -1}, outputs=3)
        self.check("Split", s, x[:, 4:6])
        p, q = run("Split", [("x", x)], {"axis": 1, "split": [5, 1]}, outputs=2, opset=11)
        self.check("Split", q, x[:, 5:6])
        y = torch.arange(24.0).view(2, 3, 4)
        self.check("Slice", run("Slice", [("x", y), ("s", i64(1, -3)), ("e", i64(2**62, -1)), ("a", i64(2, 1))]),
                   torch.tensor([[[[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]][j] for j in range(2)],
                                 [[[13.0, 14.0, 15.0], [17.0, 18.0, 19.0]][j] for j in range(2)]]))
        self.check("Slice", run("Slice", [("x", y), ("s", i64(-1)), ("e", i64(-2**62)), ("a", i64(2)), ("t", i64(-2))]),
                   y[:, :, [3, 1]])
        self.check("Slice", run("Slice", [("x", y), ("s", i64(0, 1)), ("e", i64(1, 3)), ("a", i64(0, 2)), ("t", i64(1, 1))]),
                   y[0:1, :, 1:3])
        table = r(5, 3)
        self.check("Gather", run("Gather", [("t", table), ("i", torch.tensor([[4, 0], [-1, 2]]))]),
                   torch.stack([torch.stack([table[4], table[0]]), torch.stack([table[4], table[2]])]))
        self.check("Gather", run("Gather", [("t", i64(7, 8, 9)), ("i", torch.tensor(1))]), torch.tensor(8))
        self.check("Gather", run("Gather", [("t", table), ("i", i64(2, 1))], {"axis": 1}), table[:, [2, 1]])

    def test_generators_of_tensors(self):
        x = r(3, 1)
        self.check("Expand", run("Expand", [("x", x), ("s", i64(2, 1, 4))]), x.view(1, 3, 1).repeat(2, 1, 4))
        self.check("ConstantOfShape", run("ConstantOfShape", [("s", i64(2, 3))]), torch.zeros(2, 3))
        value = helper.make_tensor("v", TensorProto.INT64, [1], [7])
        self.check("ConstantOfShape", run("ConstantOfShape", [("s", i64(2))], {"value": value}), i64(7, 7))
        self.check("Range", run("Range", [("a", torch.tensor(1)), ("b", torch.tensor(8)), ("c", torch.tensor(3))]), i64(1, 4, 7))
        m = torch.ones(3, 3)
        self.check("Trilu", run("Trilu", [("x", m)]), torch.tensor([[1.0, 1, 1], [0, 1, 1], [0, 0, 1]]))
        self.check("Trilu", run("Trilu", [("x", m), ("k", torch.tensor(-1))], {"upper": 0}),
                   torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0]]))
        z = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        self.check("Pad", run("Pad", [("x", z), ("p", i64(1, 0, 0, 2)), ("v", torch.tensor(9.0))]),
                   torch.tensor([[9.0, 9, 9, 9], [1, 2, 9, 9], [3, 4, 9, 9]]))
        self.check("Pad", run("Pad", [("x", z.view(1, 1, 2, 2)), ("p", i64(0, 0, 0, 0, 0, 0, 0, 1))], {"mode": "edge"}),
                   torch.tensor([[1.0, 2, 2], [3, 4, 4]]).view(1, 1, 2, 3))
        self.check("Constant", run("Identity", [("x", z)]), z)  # Constant is checked through graphs below as well
        const = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array([1.5, -2.0], np.float32)))
        add = helper.make_node("Add", ["x", "c"], ["y"])
        ints_node = helper.make_node("Constant", [], ["k"], value_ints=[2, 1])
        reshape = helper.make_node("Reshape", ["y", "k"], ["z"])
        graph = helper.make_graph([const, add, ints_node, reshape], "c",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                                  [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
        out = OnnxModule(helper.make_model(graph)).run({"x": torch.tensor([1.0, 1.0])})["z"]
        self.check("Constant", out, torch.tensor([[2.5], [-1.0]]))

    def test_reductions_and_argmax(self):
        x = r(2, 3, 4)
        self.check("ReduceMean", run("ReduceMean", [("x", x)], {"axes": [1, -1]}),
                   (x.sum(1, keepdim=True).sum(2, keepdim=True) / 12))
        self.check("ReduceMean", run("ReduceMean", [("x", x)], {"axes": [2], "keepdims": 0}), x.sum(2) / 4)
        self.check("ReduceSum", run("ReduceSum", [("x", x), ("a", i64(0))], {"keepdims": 0}), x[0] + x[1])
        self.check("ReduceSum", run("ReduceSum", [("x", x)]), x.sum().view(1, 1, 1), tol=1e-5)
        self.check("ReduceMax", run("ReduceMax", [("x", x)], {"axes": [0]}), torch.where(x[0] > x[1], x[0], x[1]).unsqueeze(0))
        t = torch.tensor([[1.0, 5.0, 5.0, 2.0], [7.0, 0.0, 7.0, 1.0]])
        self.check("ArgMax", run("ArgMax", [("x", t)], {"axis": 1, "keepdims": 0}), i64(1, 0))
        self.check("ArgMax", run("ArgMax", [("x", t)], {"axis": 1, "select_last_index": 1}), torch.tensor([[2], [2]]))

    def test_unknown_operators_are_listed_in_one_error(self):
        nodes = [helper.make_node("Hardmax", ["x"], ["a"]), helper.make_node("Einsum", ["a"], ["y"], equation="ij->ji")]
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        with self.assertRaises(NotImplementedError) as e:
            OnnxModule(helper.make_model(graph))
        self.assertIn("Einsum, Hardmax", str(e.exception))

    def test_zz_every_operator_has_a_case(self):
        # Named to run after the operator tests (unittest sorts test names); meaningful only when they all ran.
        others = {n for n in dir(self) if n.startswith("test_") and n != self._testMethodName}
        if not others <= OperatorTest.ran:
            self.skipTest("run with the other OperatorTest tests")
        self.assertEqual(sorted((set(onnx_eager.OPS) | {"Constant"}) - OperatorTest.covered), [])


if __name__ == "__main__":
    unittest.main()
