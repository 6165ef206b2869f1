"""Writes tests/Evlf.OnnxHybrid.Tests/Sharding/Vectors/reference.safetensors from the safetensors format description
(8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
raw little-endian bytes), with numpy and the standard library only, and reference.json: each tensor's values as JSON,
so the C# reader (Sharding/SafeTensors.cs) is checked against an implementation that shares no code with it.

Usage: /usr/bin/python3 tools/reference/safetensors_reference.py [OUT_DIR]
"""

import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}


def tensors():
    rng = np.random.default_rng(7)
    return {
        "mean": ("F32", rng.standard_normal((3, 2, 2, 2)).astype(np.float32)),
        "index": ("I64", np.array([0, 5, 9, 2**40], dtype=np.int64)),
        "counts": ("I32", np.array([[1, -2], [3, 4]], dtype=np.int32)),
        "pixels": ("U8", np.arange(0, 250, 50, dtype=np.uint8)),
        "mask": ("BOOL", np.array([True, False, True])),
        "scale": ("F64", np.array([0.18215], dtype=np.float64)),
        "empty": ("F32", np.zeros((0, 4), dtype=np.float32)),
    }


def write(path, items, metadata):
    header, chunks, offset = {}, [], 0
    # Data in the reverse name order (the format allows any order; the reader must follow the offsets).
    for name in sorted(items, reverse=True):
        dtype, array = items[name]
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../tests/Evlf.OnnxHybrid.Tests/Sharding/Vectors")
    os.makedirs(out, exist_ok=True)
    items = tensors()
    write(os.path.join(out, "reference.safetensors"), items, {"writer": "tools/reference/safetensors_reference.py"})
    values = {name: {"dtype": d, "shape": list(a.shape), "values": a.astype(np.float64).ravel().tolist()} for name, (d, a) in items.items()}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(values, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
