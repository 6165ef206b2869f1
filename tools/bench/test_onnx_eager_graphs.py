#!/usr/bin/python3
"""Checks tools/bench/onnx_eager on whole graphs (a few seconds on 2 cores):

    /usr/bin/python3 -m unittest tools/bench/test_onnx_eager_graphs.py

  - the GraphBuilder-made fusion fixtures (tests/Evlf.OnnxHybrid.Tests/Fusion/Models) against the float64 outputs
    fusion_reference.py stored with them (Fusion/Vectors), within 1e-5, and one training step through the interpreter
    (autograd, clipping, AdamW) against the stored gradients and updated weights;
  - the exported fixtures with stored outputs (tests/Evlf.OnnxHybrid.Tests/Fixtures/*/outputs);
  - the default bundle's graphs use only implemented operators.
"""

import glob
import json
import os
import sys
import unittest

import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TESTS = os.path.join(ROOT, "tests", "Evlf.OnnxHybrid.Tests")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import fusion_reference as fr  # noqa: E402
from onnx_eager import OnnxModule  # noqa: E402


def pb(path):
    return torch.from_numpy(numpy_helper.to_array(onnx.load_tensor(path)).copy())


class GraphTest(unittest.TestCase):
    FUSION_CASES = ("released_s8", "prenorm_refresh_s32")

    def fusion_inputs(self, case):
        v = os.path.join(TESTS, "Fusion", "Vectors", case)
        labels = pb(os.path.join(v, "labels.pb"))
        return v, pb(os.path.join(v, "z_img.pb")), labels, pb(os.path.join(v, "class_tokens.pb"))[labels]

    def test_graphbuilder_fusion_fixtures_match_the_float64_reference(self):
        for case in self.FUSION_CASES:
            models = os.path.join(TESTS, "Fusion", "Models", case)
            v, z, _, text = self.fusion_inputs(case)
            for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-7)):
                with self.subTest(case=case, dtype=dtype):
                    fusion = OnnxModule(os.path.join(models, "fusion.onnx"), dtype=dtype).eval()
                    projector = OnnxModule(os.path.join(models, "projector.onnx"), dtype=dtype).eval()
                    with torch.no_grad():
                        fused = fusion(z_img=z.to(dtype), e_text=text.to(dtype))["z_fused"]
                        embedding = projector(z=fused)["embedding"]
                    self.assertLess(float((fused.double() - pb(os.path.join(v, "z_fused.pb"))).abs().max()), tol)
                    self.assertLess(float((embedding.double() - pb(os.path.join(v, "embedding.pb"))).abs().max()), tol)

    def test_one_training_step_through_the_interpreter_matches_fusion_reference(self):
        """Autograd through the graphs: InfoNCE + λ2·MSE, backward, clip to 1.0, AdamW (two groups), in float64."""
        for case in self.FUSION_CASES:
            with self.subTest(case=case):
                models = os.path.join(TESTS, "Fusion", "Models", case)
                v, z, labels, text = self.fusion_inputs(case)
                with open(os.path.join(v, "params.json")) as f:
                    p = json.load(f)
                modules = {name: OnnxModule(os.path.join(models, name + ".onnx"), trainable=True, dtype=torch.float64).eval()
                           for name in ("fusion", "projector")}
                vectors = pb(os.path.join(v, "class_vectors.pb")).double()[labels]
                fused = modules["fusion"](z_img=z.double(), e_text=text.double())["z_fused"]
                nce = fr.info_nce(modules["projector"](z=fused)["embedding"], vectors, labels, p["logit_scale"])
                loss = p["lambda1"] * nce + p["lambda2"] * fr.mse(fused, z.double())
                self.assertLess(abs(float(loss) - p["loss"]), 1e-7)
                optimizer = torch.optim.AdamW([{"params": list(modules["fusion"].parameters()), "lr": p["lr_fusion"]},
                                               {"params": list(modules["projector"].parameters()), "lr": p["lr_projector"]}],
                                              weight_decay=p["weight_decay"])
                optimizer.zero_grad()
                loss.backward()
                named = [(f"{m}.{n}", t) for m in ("fusion", "projector") for n, t in modules[m].named_onnx_parameters()]
                norm = torch.nn.utils.clip_grad_norm_([t for _, t in named], p["clip_grad_norm"])
                self.assertLess(abs(float(norm) / p["grad_norm"] - 1), 1e-6)
                for name, t in named:
                    ref = pb(os.path.join(v, f"grad.{name}.pb"))
                    scale = float(ref.abs().max()) or 1.0
                    self.assertLess(float((t.grad - ref).abs().max()) / scale, 1e-5, name)
                optimizer.step()
                for name, t in named:
                    ref, g = pb(os.path.join(v, f"updated.{name}.pb")), pb(os.path.join(v, f"grad.{name}.pb"))
                    # AdamW's first step moves every weight by lr·g/(|g| + ε): where the gradient is ~0 its sign is noise.
                    clear = g.abs() > 1e-6 * max(float(g.abs().max()), 1e-30)
                    delta = (t.detach() - ref).abs()[clear]
                    if delta.numel():
                        self.assertLess(float(delta.max()), 1e-8, name)

    def test_exported_fixtures_match_their_stored_outputs(self):
        folders = sorted(d for d in glob.glob(os.path.join(TESTS, "Fixtures", "*", "")) if glob.glob(os.path.join(d, "outputs", "*.pb")))
        self.assertGreaterEqual(len(folders), 8)
        for folder in folders:
            module = OnnxModule(os.path.join(folder, "model.onnx")).eval()
            feeds = {n: pb(os.path.join(folder, "inputs", n + ".pb")) for n in module.input_names}
            with torch.no_grad():
                out = module.run(feeds)
            for name in module.output_names:
                with self.subTest(fixture=os.path.basename(os.path.dirname(folder)), output=name):
                    ref = pb(os.path.join(folder, "outputs", name + ".pb")).double()
                    self.assertLess(float((out[name].double() - ref).abs().max()), 1e-5 * max(1.0, float(ref.abs().max())))

    def test_the_default_bundle_uses_only_implemented_operators(self):
        for path in sorted(glob.glob(os.path.join(ROOT, "models", "fmnist-ldm", "*.onnx"))):
            with self.subTest(model=os.path.basename(path)):
                module = OnnxModule(path)
                self.assertGreater(len(module.nodes), 0)


if __name__ == "__main__":
    unittest.main()
