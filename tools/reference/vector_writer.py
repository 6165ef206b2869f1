"""The parity-vector layout the C# tests read (Diffusion/ReferenceVectors.cs): <root>/<case>/<name>.pb, a serialized
onnx.TensorProto, and <root>/<case>/params.json with the case's scalars."""

import json
import os

import numpy as np
import torch
from onnx import numpy_helper


class Writer:
    def __init__(self, root):
        self.root = root
        self.cases = []

    def case(self, name, tensors, params=None):
        folder = os.path.join(self.root, name)
        os.makedirs(folder, exist_ok=True)
        for key, value in tensors.items():
            arr = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
            proto = numpy_helper.from_array(np.ascontiguousarray(arr), key)
            with open(os.path.join(folder, key + ".pb"), "wb") as f:
                f.write(proto.SerializeToString())
        with open(os.path.join(folder, "params.json"), "w") as f:
            json.dump(params or {}, f, indent=1, sort_keys=True)
            f.write("\n")
        self.cases.append(name)
