#!/usr/bin/python3
"""Checks tools/bench/pipeline_reference.py end to end on a tiny setting (about ten seconds on 2 cores):

    /usr/bin/python3 -m unittest tools/bench/test_pipeline_reference.py

The tiny run reads the first 200 Fashion-MNIST training and test images, trains the fusion module on 64 of them for
one epoch and samples with 5 steps instead of 50; its timings mean nothing. It needs the data
(/usr/share/datasets/fashion-mnist or $EVLF_DATA) and evlf's MiniLM cache (any evlf command that opens the text
encoder extracts it); without them those tests are skipped and say why.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "pipeline_reference.py")
sys.path.insert(0, HERE)
import distill_defaults as defaults  # noqa: E402
import minilm  # noqa: E402

STAGES = ["latents", "text", "fusion", "fuse", "modes", "sample"]  # the C# manifest's stage names, in order


def data_folder():
    for folder in (os.environ.get("EVLF_DATA"), "/usr/share/datasets/fashion-mnist"):
        if folder and os.path.exists(os.path.join(folder, "train-images-idx3-ubyte.gz")):
            return folder
    return None


class TinyRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.why_not = None
        data = data_folder()
        if data is None:
            cls.why_not = "Fashion-MNIST not found ($EVLF_DATA, /usr/share/datasets/fashion-mnist)"
            return
        if not os.path.exists(os.path.join(minilm.minilm_folder(None), "model.onnx")):
            cls.why_not = f"MiniLM not extracted to {minilm.minilm_folder(None)} (run e.g. evlf inspect models/fmnist-ldm)"
            return
        cls.out = tempfile.mkdtemp(prefix="evlf-pyref-")
        cls.json_path = os.path.join(cls.out, "report", "pipeline.json")
        run = subprocess.run([sys.executable, SCRIPT, "--bundle", os.path.join(ROOT, "models", "fmnist-ldm"),
                              "--data", data, "--out", cls.out, "--max-train", "200", "--fusion-samples", "64",
                              "--fusion-epochs", "1", "--steps", "5", "--threads", "1", "--json", cls.json_path],
                             capture_output=True, text=True, timeout=600)
        cls.run_result = run
        cls.report = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else None

    def setUp(self):
        if self.why_not:
            self.skipTest(self.why_not)
        self.assertEqual(self.run_result.returncode, 0, self.run_result.stderr[-3000:])

    def test_times_every_stage_of_the_csharp_pipeline(self):
        r = self.report
        self.assertEqual(list(r["stages"]), STAGES)
        for stage, seconds in r["stages"].items():
            self.assertGreater(seconds, 0, stage)
        self.assertGreaterEqual(r["seconds"], sum(r["stages"].values()) * 0.999)
        with open(self.json_path) as f:
            self.assertEqual(json.load(f), r)

    def test_does_the_work_its_settings_say(self):
        r, d = self.report, self.report["detail"]
        self.assertEqual(r["threads"], 1)
        self.assertEqual((r["settings"]["fusion_epochs"], r["settings"]["fusion_samples"]), (1, 64))
        self.assertEqual((r["settings"]["ipc"], r["settings"]["steps"], r["settings"]["method"]), (10, 5, "mgd3"))
        self.assertEqual(d["latents"], {"images": 200, "encoded": 400, "batch": 100})
        # 64 samples / batch 16 = 4 micro-batches, accumulation 2 -> 2 optimizer steps
        self.assertEqual((d["fusion"]["pool"], d["fusion"]["micro_batches"], d["fusion"]["steps"]), (64, 4, 2))
        self.assertEqual(d["fusion"]["test"]["Samples"], 200)
        self.assertEqual((d["modes"]["rows"], d["modes"]["dims"], d["modes"]["k"]), (200, 256, 10))
        self.assertEqual(len(d["modes"]["lloyd_iterations"]), 10)
        # 10 classes x 5 steps, each one DiT call on the CFG batch of 2 x IPC
        self.assertEqual((d["sample"]["denoiser_calls"], d["sample"]["denoiser_batch"]), (50, 20))

    def test_writes_ipc_pngs_per_class(self):
        from PIL import Image
        images = os.path.join(self.out, "images")
        folders = sorted(os.listdir(images))
        self.assertEqual(len(folders), 10)
        self.assertIn("T-shirt_top", folders)
        for folder in folders:
            self.assertEqual(sorted(os.listdir(os.path.join(images, folder))), sorted(f"{k}.png" for k in range(10)))
        with Image.open(os.path.join(images, "Trouser", "0.png")) as im:
            self.assertEqual((im.mode, im.size), ("L", (32, 32)))
        self.assertEqual(self.report["images"], 100)


class ArgumentsTest(unittest.TestCase):
    def test_exits_3_without_torch(self):
        run = subprocess.run([sys.executable, "-S", SCRIPT, "--bundle", os.path.join(ROOT, "models", "fmnist-ldm"),
                              "--out", tempfile.mkdtemp()], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 3, run.stderr)
        self.assertEqual(run.stdout, "")
        self.assertIn("cannot import torch", run.stderr)

    def test_bad_arguments_exit_2_with_one_line(self):
        for extra, message in ((["--fusion-samples", "8"], "--fusion-samples must be 0"),
                               (["--bundle", "/nonexistent"], "has no bundle.json")):
            run = subprocess.run([sys.executable, SCRIPT, "--out", tempfile.mkdtemp()] + extra, capture_output=True,
                                 text=True, timeout=60, cwd=ROOT)
            self.assertEqual(run.returncode, 2)
            self.assertIn(message, run.stderr)

    def test_defaults_are_evlf_distills(self):
        d = defaults
        self.assertEqual((d.IPC, d.STEPS, d.CFG_SCALE, d.GUIDED_CHANNELS, d.MODE_LAMBDA, d.MODE_STOP_T), (10, 50, 4.0, 3, 0.1, 25))
        self.assertEqual((d.FUSION_EPOCHS, d.FUSION_SAMPLES, d.BATCH, d.ACCUMULATION), (4, 12000, 16, 2))
        self.assertEqual((d.LR_FUSION, d.LR_PROJECTOR, d.WEIGHT_DECAY, d.CLIP), (3e-4, 1e-4, 1e-2, 1.0))

    def test_tokenizer_frames_prompt_names_as_bert_does(self):
        vocab = os.path.join(minilm.minilm_folder(None), "vocab.txt")
        if not os.path.exists(vocab):
            self.skipTest(f"{vocab} not extracted")
        t = minilm.WordPiece(vocab)
        self.assertEqual(t.words("T-shirt/Top Café"), ["t", "-", "shirt", "/", "top", "cafe"])
        ids, mask = t.encode("ankle boot", 16)
        self.assertEqual(ids[0], t.cls)
        self.assertEqual(ids[3], t.sep)
        self.assertEqual(mask, [1] * 4 + [0] * 12)
        self.assertEqual(ids[4:], [t.pad] * 12)
        self.assertEqual(ids[1:3], [t.ids["ankle"], t.ids["boot"]])


if __name__ == "__main__":
    unittest.main()
