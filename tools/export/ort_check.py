#!/usr/bin/python3
"""ONNX Runtime (Python) against the PyTorch references an export wrote into a bundle:

    python3 tools/export/ort_check.py BUNDLE_DIR [--providers CUDAExecutionProvider,CPUExecutionProvider]

For machines that have the onnxruntime Python package (the development machines do not; there
`evlf inspect --parity BUNDLE_DIR` does the same and also checks the importer). Prints one
`COMPONENT: ort_max_abs_diff: …` line per output; exits 1 when one exceeds --tolerance (default 1e-4)."""

import argparse
import json
import os
import sys
import time

import numpy as np
from onnx import TensorProto, numpy_helper


def read_tensors(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        t = TensorProto()
        with open(os.path.join(folder, name), "rb") as f:
            t.ParseFromString(f.read())
        out[os.path.splitext(name)[0]] = numpy_helper.to_array(t)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bundle")
    p.add_argument("--providers", default="CPUExecutionProvider")
    p.add_argument("--tolerance", type=float, default=1e-4)
    args = p.parse_args(argv)
    import onnxruntime as ort

    with open(os.path.join(args.bundle, "reference", "reference.json"), encoding="utf-8") as f:
        index = json.load(f)
    worst, failed = 0.0, False
    for component, entry in index["components"].items():
        started = time.time()
        session = ort.InferenceSession(os.path.join(args.bundle, entry["file"]), providers=args.providers.split(","))
        folder = os.path.join(args.bundle, "reference", entry["folder"])
        inputs, expected = read_tensors(os.path.join(folder, "inputs")), read_tensors(os.path.join(folder, "outputs"))
        names = list(expected)
        got = dict(zip(names, session.run(names, inputs)))
        for name in names:
            a, b = got[name].astype(np.float64), expected[name].astype(np.float64)
            diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("inf")
            print("%s: ort_max_abs_diff: %.3e  output=%s shape=%s max_abs_value=%.4g (%s, %.1f s)"
                  % (component, diff, name, list(b.shape), float(np.abs(b).max()), session.get_providers()[0],
                     time.time() - started), flush=True)
            worst = max(worst, diff)
            failed |= not diff <= args.tolerance
    print("ONNX Runtime vs PyTorch: worst %.3e" % worst)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
