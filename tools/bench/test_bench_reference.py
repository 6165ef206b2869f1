#!/usr/bin/python3
"""Checks tools/bench/bench_reference.py end to end at --tiny sizes (about ten seconds on 2 cores):

    /usr/bin/python3 -m unittest tools/bench/test_bench_reference.py
"""

import json
import math
import os
import subprocess
import sys
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_reference.py")

# The keys the C# bench reads (src/Evlf.Bench/PyTorch/PythonReference.cs).
STAGES = ["gemm_1024_gflops", "fusion_training_ms_per_step", "convnet3_images_per_second",
          "sampler_step_math_ms_per_step", "kmeans_6000x256_k10_seconds", "kmeans_ms_per_iteration"]


class BenchReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run = subprocess.run([sys.executable, SCRIPT, "--threads", "1", "--tiny"], capture_output=True, text=True,
                             timeout=600)
        cls.stderr = run.stderr
        cls.returncode = run.returncode
        cls.report = json.loads(run.stdout) if run.returncode == 0 else None

    def test_prints_one_json_object_with_every_stage(self):
        self.assertEqual(self.returncode, 0, self.stderr)
        for key in STAGES:
            with self.subTest(key=key):
                value = self.report[key]
                self.assertIsInstance(value, float)
                self.assertTrue(math.isfinite(value) and value > 0, f"{key} = {value}")

    def test_says_how_it_ran(self):
        r = self.report
        self.assertEqual(r["threads"], 1)
        self.assertEqual(r["mode"], "tiny")
        self.assertEqual(r["skipped"], {})
        self.assertTrue(r["torch_version"])
        self.assertIn("torch_blas_info", r["blas"])
        self.assertIs(r["convnet3_training"]["dsa"], True)
        self.assertEqual(r["fusion_training"]["accumulation"], 2)
        self.assertEqual(r["fusion_training"]["batch"], 16)
        self.assertEqual(r["sampler_step_math"]["guided_channels"], 3)
        self.assertEqual(len(r["kmeans"]["iterations"]), r["kmeans"]["repeats"])
        self.assertLessEqual(max(r["kmeans"]["iterations"]), 300)

    def test_full_sizes_match_the_csharp_bench(self):
        sys.path.insert(0, os.path.dirname(SCRIPT))
        import bench_reference as b
        for mode in ("full", "quick"):
            m = b.MODES[mode]
            self.assertEqual((m["convnet_images"], m["sampler_images"], m["gemm_size"]), (100, 10, 1024))
            self.assertEqual((m["kmeans_rows"], m["kmeans_dims"], m["kmeans_k"]), (6000, 256, 10))
            self.assertNotIn("fusion_config", m)
        self.assertEqual((b.MODES["full"]["fusion_steps"], b.MODES["quick"]["fusion_steps"]), (60, 20))
        self.assertEqual((b.MODES["full"]["convnet_epochs"], b.MODES["quick"]["convnet_epochs"]), (200, 50))

    def test_exits_3_without_torch(self):
        # -S leaves out site-packages, so torch cannot be imported.
        run = subprocess.run([sys.executable, "-S", SCRIPT, "--threads", "1", "--tiny"], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(run.returncode, 3)
        self.assertEqual(run.stdout, "")
        self.assertIn("cannot import torch", run.stderr)


if __name__ == "__main__":
    unittest.main()
