#!/usr/bin/python3
"""Unit tests of tools/export that need no ONNX Runtime (the C# tests in tests/Evlf.OnnxHybrid.Tests/Export do
the ONNX Runtime and importer parity). Run: /usr/bin/python3 -m unittest discover -s tools/export -p 'test_*.py'"""

import contextlib
import io
import json
import os
import struct
import sys
import tempfile
import types
import unittest

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bundle  # noqa: E402
import clip_text  # noqa: E402
import components  # noqa: E402
import dit  # noqa: E402
import export  # noqa: E402
import onnx_export  # noqa: E402
import ort_check  # noqa: E402
import random_state_dicts as rsd  # noqa: E402
import tiny_tokenizer  # noqa: E402
import unet  # noqa: E402
import vae  # noqa: E402
from checkpoints import CheckpointError, read_safetensors, write_safetensors  # noqa: E402
from random_configs import CONFIGS  # noqa: E402


class SafetensorsTests(unittest.TestCase):
    def test_round_trip_keeps_dtypes_shapes_and_values(self):
        tensors = {"a": torch.randn(3, 4), "b": torch.randn(5).half(), "c": torch.arange(6).reshape(2, 3),
                   "d": torch.randn(2, 2).bfloat16()}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            write_safetensors(path, tensors)
            back = read_safetensors(path)
        self.assertEqual(set(back), set(tensors))
        for k, t in tensors.items():
            self.assertEqual(back[k].dtype, t.dtype)
            self.assertTrue(torch.equal(back[k], t), k)

    def test_truncated_file_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            write_safetensors(path, {"w": torch.randn(100)})
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(data[:-40])
            with self.assertRaisesRegex(CheckpointError, "truncated"):
                read_safetensors(path)
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", 10 ** 9) + b"{}")
            with self.assertRaisesRegex(CheckpointError, "header length"):
                read_safetensors(path)


class DitTests(unittest.TestCase):
    def setUp(self):
        self.c = CONFIGS["small"]["dit"]
        self.sd = rsd.dit_state_dict(self.c, rsd.Draw(1))

    def test_config_is_read_from_the_shapes(self):
        cfg = dit.DitConfig(self.sd, num_heads=4)
        c = self.c
        self.assertEqual((cfg.hidden, cfg.depth, cfg.patch, cfg.in_channels, cfg.latent_size, cfg.num_classes,
                          cfg.freq_dim, cfg.mlp_hidden, cfg.learned_sigma, cfg.out_channels),
                         (c["hidden"], c["depth"], c["patch"], c["in_channels"], c["latent_size"], c["classes"],
                          c["freq_dim"], c["hidden"] * c["mlp_ratio"], True, 2 * c["in_channels"]))
        self.assertEqual(cfg.gamma_blocks, list(range(c["gamma_blocks"])))

    def test_heads_that_do_not_divide_and_contradicting_latent_size_are_errors(self):
        with self.assertRaisesRegex(CheckpointError, "num-heads"):
            dit.DitConfig(self.sd, num_heads=7)
        with self.assertRaisesRegex(CheckpointError, "pos_embed"):
            dit.DitConfig(self.sd, num_heads=4, latent_size=32)
        no_pos = {k: v for k, v in self.sd.items() if k != "pos_embed"}
        with self.assertRaisesRegex(CheckpointError, "latent-size"):
            dit.DitConfig(no_pos, num_heads=4)
        cfg, model = dit.build(no_pos, 4, latent_size=self.c["latent_size"])
        self.assertTrue(torch.allclose(model.pos_embed, self.sd["pos_embed"]))  # the same fixed table

    def test_difffit_adds_identity_gammas_to_the_first_half_only(self):
        plain = {k: v for k, v in self.sd.items() if "gamma" not in k}
        cfg, model = dit.build(plain, 4, difffit=True)
        self.assertEqual(cfg.added_gamma_blocks, list(range(self.c["depth"] // 2)))
        _, reference = dit.build(plain, 4)
        x = torch.randn(2, 4, self.c["latent_size"], self.c["latent_size"])
        t, y = torch.tensor([3, 999]), torch.tensor([1, self.c["classes"]])
        with torch.no_grad():
            self.assertTrue(torch.allclose(model(x, t, y), reference(x, t, y), atol=1e-6))

    def test_unknown_keys_fail_the_strict_load(self):
        with self.assertRaisesRegex(CheckpointError, "unexpected"):
            dit.build(dict(self.sd, **{"blocks.0.extra.weight": torch.zeros(1)}), 4)


class VaeTests(unittest.TestCase):
    def test_legacy_attention_names_give_the_same_model(self):
        c = CONFIGS["tiny"]["dit_vae"]
        sd = rsd.vae_state_dict(c, rsd.Draw(2))
        legacy = {}
        for k, v in sd.items():
            for new, old in ((".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."),
                             (".to_out.0.", ".proj_attn.")):
                if new in k:
                    k = k.replace(new, old)
                    v = v[:, :, None, None] if v.dim() == 2 else v
            legacy[k] = v
        cfg, enc, dec = vae.build(sd, rsd.vae_config_json(c))
        _, enc2, dec2 = vae.build(legacy, rsd.vae_config_json(c))
        self.assertEqual((cfg.image_size, cfg.latent_size, cfg.groups, cfg.widths, cfg.layers_per_block),
                         (32, 8, 4, [8, 16, 16], 1))
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        with torch.no_grad():
            for a, b in zip(enc(x), enc2(x)):
                self.assertTrue(torch.equal(a, b))

    def test_group_count_that_does_not_divide_is_an_error(self):
        c = CONFIGS["tiny"]["dit_vae"]
        with self.assertRaisesRegex(ValueError, "vae-groups"):
            vae.build(rsd.vae_state_dict(c, rsd.Draw(2)), {}, groups=3)


class UNetAndTextTests(unittest.TestCase):
    def test_unet_config_is_read_from_the_shapes_and_config_json(self):
        for name in ("tiny", "small"):
            c = CONFIGS[name]["unet"]
            sd = rsd.unet_state_dict(c, 16, rsd.Draw(3))
            cfg, model = unet.build(sd, rsd.unet_config_json(c, 16, 8))
            self.assertEqual((cfg.widths, cfg.attention_levels, cfg.linear_projection, cfg.cross_attention_dim,
                              cfg.heads, cfg.groups, cfg.time_proj_dim),
                             (c["widths"], c["attention_levels"], c["linear_projection"], 16, [c["heads"]] * 4,
                              c["groups"], c["time_proj"]))
            out = model(torch.randn(1, 4, 8, 8), torch.tensor([10]), torch.randn(1, 5, 16))
            self.assertEqual(tuple(out.shape), (1, 4, 8, 8))

    def test_config_json_settings_the_modules_do_not_implement_are_errors(self):
        c = CONFIGS["tiny"]["unet"]
        sd = rsd.unet_state_dict(c, 16, rsd.Draw(3))
        for key, value in (("resnet_time_scale_shift", "scale_shift"), ("only_cross_attention", [False, True]),
                           ("class_embed_type", "timestep")):
            with self.assertRaisesRegex(CheckpointError, key):
                unet.build(sd, dict(rsd.unet_config_json(c, 16, 8), **{key: value}))
        unet.build(sd, dict(rsd.unet_config_json(c, 16, 8), only_cross_attention=[False] * 4, mid_block_type=None))
        v = CONFIGS["tiny"]["dit_vae"]
        with self.assertRaisesRegex(CheckpointError, "act_fn"):
            vae.build(rsd.vae_state_dict(v, rsd.Draw(2)), dict(rsd.vae_config_json(v), act_fn="gelu"))

    def test_text_encoder_reads_with_or_without_the_text_model_prefix(self):
        c = CONFIGS["tiny"]["text"]
        sd = rsd.text_state_dict(c, 40, rsd.Draw(4))
        cfg, model = clip_text.build(sd, rsd.text_config_json(c, 40))
        bare = {k[len("text_model."):]: v for k, v in sd.items()}
        _, model2 = clip_text.build(bare, {}, heads=c["heads"])
        self.assertEqual((cfg.vocab, cfg.hidden, cfg.layers, cfg.heads, cfg.mlp), (40, 16, 2, 2, 32))
        ids = torch.randint(0, 40, (2, 9))
        with torch.no_grad():
            self.assertTrue(torch.equal(model(ids), model2(ids)))
        # causal: a later token never changes an earlier position
        changed = ids.clone()
        changed[:, -1] = (changed[:, -1] + 1) % 40
        with torch.no_grad():
            self.assertTrue(torch.allclose(model(ids)[:, :-1], model(changed)[:, :-1], atol=1e-6))


class ExportTests(unittest.TestCase):
    def _export(self, folder, fp16, threshold):
        c = CONFIGS["tiny"]["text"]
        _, model = clip_text.build(rsd.text_state_dict(c, 40, rsd.Draw(5)), rsd.text_config_json(c, 40))
        ids = torch.randint(0, 40, (2, 7))
        path = os.path.join(folder, "text.onnx")
        axes = {"input_ids": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"}}
        report, _ = onnx_export.export(model, {"input_ids": ids}, ["last_hidden_state"], axes, path, fp16,
                                       threshold, log=lambda m: None)
        return path, report

    def test_initializers_keep_parameter_names_and_fp16_keeps_gather_tables_as_inputs(self):
        with tempfile.TemporaryDirectory() as d:
            path, report = self._export(d, fp16=True, threshold=onnx_export.TWO_GB)
            m = onnx.load(path)
        names = {i.name for i in m.graph.initializer}
        self.assertFalse([n for n in names if n.startswith("onnx::")])
        self.assertIn("encoder.layers.0.self_attn.q_proj.weight.T", names)
        self.assertGreater(report["fp16_initializers"], 0)
        gathers = [n for n in m.graph.node if n.op_type == "Gather" and n.input[0] in names]
        self.assertTrue(any(n.input[0] == "embeddings.token_embedding.weight" for n in gathers))
        halves = {i.name for i in m.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16}
        self.assertIn("embeddings.token_embedding.weight", halves)

    def test_trace_check_catches_a_batch_frozen_into_the_graph(self):
        class Frozen(torch.nn.Module):
            def forward(self, x):
                n = int(x.shape[0])  # a Python int: the trace records the constant 2
                return x.reshape(n, -1).sum(1)

        class Free(torch.nn.Module):
            def forward(self, x):
                return x.reshape(x.shape[0], -1).sum(1)

        inputs = {"x": torch.randn(2, 3)}
        alternatives = [onnx_export.grow_batch(inputs, 1), onnx_export.grow_batch(inputs, 4)]
        self.assertEqual(onnx_export.trace_check(Free(), inputs, alternatives), 0.0)
        for alt in alternatives:
            self.assertEqual(onnx_export.trace_check(Frozen(), inputs, [alt]), float("inf"))

    def test_external_data_below_the_threshold(self):
        with tempfile.TemporaryDirectory() as d:
            path, report = self._export(d, fp16=False, threshold=0)
            self.assertTrue(report["external_data"])
            self.assertTrue(os.path.isfile(path + ".data"))
            raw = onnx.load(path, load_external_data=False)
            external = [i for i in raw.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL]
            self.assertGreater(len(external), 0)
            self.assertTrue(all(i.external_data[0].value == "text.onnx.data" for i in external))


    def test_dit_added_to_an_existing_bundle_keeps_its_vae_classes_and_references(self):
        with tempfile.TemporaryDirectory() as d:
            # What `sd` leaves: a VAE under its own names, classes, and references for its components.
            vae = dict(bundle.vae_section(), encoder="sd_vae_encoder.onnx", decoder="sd_vae_decoder.onnx")
            existing = {"format": bundle.FORMAT, "name": "sd-bundle", "vae": vae, "classes": ["cat", "dog"],
                        "image": {"channels": 3, "size": 64, "range": [-1.0, 1.0]},
                        "latent": {"channels": 4, "size": 8, "scaling_factor": 0.5}, "denoisers": {}}
            bundle.write_manifest(d, existing)
            refs = bundle.References(d, 7, "the sd export")
            refs.add("vae_decoder", "sd_vae_decoder.onnx", {"latent": torch.zeros(1, 4, 8, 8)},
                     {"image": torch.zeros(1, 3, 64, 64)})
            refs.save()
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(export.main(["dit", "--random-config", "tiny", "--out", d]), 0)
            m = bundle.read_manifest(d)
            with open(os.path.join(d, "reference", "reference.json"), encoding="utf-8") as f:
                index = json.load(f)
            written = sorted(os.listdir(d))
        self.assertEqual((m["name"], m["vae"], m["classes"], m["latent"]["scaling_factor"]),
                         ("sd-bundle", vae, ["cat", "dog"], 0.5))
        self.assertEqual(m["denoisers"]["dit"]["null_class"], CONFIGS["tiny"]["dit"]["classes"])
        self.assertNotIn("vae_encoder.onnx", written)  # no random VAE over the bundle's own
        self.assertEqual(sorted(index["components"]), ["dit", "vae_decoder"])
        self.assertEqual((index["components"]["vae_decoder"]["seed"], index["components"]["dit"]["seed"]), (7, 0))

    def test_token_rows_are_bos_tokens_eos_then_eos_padding(self):
        ids = components._token_rows(0, bos=40, eos=41, length=12)
        for row in ids.tolist():
            self.assertEqual(row[0], 40)
            body = row[1:row.index(41)]
            self.assertTrue(body and all(0 <= t < 40 for t in body))
            self.assertTrue(all(t == 41 for t in row[row.index(41):]))


class BundleTests(unittest.TestCase):
    def test_classes_from_a_file_with_prompt_names_or_a_list(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "classes.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("n01440764\ttench\nn02102040\tEnglish springer\n")
            self.assertEqual(bundle.read_classes(path), (["n01440764", "n02102040"], ["tench", "English springer"]))
        self.assertEqual(bundle.read_classes("cat, dog"), (["cat", "dog"], None))

    def test_tiny_tokenizer_has_bytes_merges_and_eos_last(self):
        with tempfile.TemporaryDirectory() as d:
            n = tiny_tokenizer.write_tiny_tokenizer(d)
            with open(os.path.join(d, "vocab.json"), encoding="utf-8") as f:
                vocab = json.load(f)
        self.assertEqual(len(vocab), n)
        self.assertEqual(vocab["<|endoftext|>"], n - 1)
        self.assertEqual(len(tiny_tokenizer.byte_symbols()), 256)
        self.assertIn("cat</w>", vocab)


class OrtCheckTests(unittest.TestCase):
    """ort_check.py's plumbing (reference index, tensor files, names, exit code) with a stand-in for onnxruntime,
    which the development machines lack; on a machine that has it, run the script on a real bundle."""

    def _run(self, bundle_dir, outputs):
        class Session:
            def __init__(self, path, providers):
                self.path = path

            def run(self, names, feeds):
                assert set(feeds) == {"x"} and feeds["x"].shape == (2, 3), feeds
                assert self.path.endswith("model.onnx"), self.path
                return [outputs[n] for n in names]

            def get_providers(self):
                return ["CPUExecutionProvider"]

        stub = types.ModuleType("onnxruntime")
        stub.InferenceSession = Session
        saved = sys.modules.get("onnxruntime")
        sys.modules["onnxruntime"] = stub
        try:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = ort_check.main([bundle_dir])
            return code, out.getvalue()
        finally:
            if saved is None:
                del sys.modules["onnxruntime"]
            else:
                sys.modules["onnxruntime"] = saved

    def test_exit_code_follows_the_tolerance(self):
        y = torch.randn(2, 4)
        with tempfile.TemporaryDirectory() as d:
            refs = bundle.References(d, 0, "test")
            refs.add("model", "model.onnx", {"x": torch.randn(2, 3)}, {"y": y})
            refs.save()
            code, text = self._run(d, {"y": y.numpy()})
            self.assertEqual(code, 0, text)
            self.assertIn("model: ort_max_abs_diff: 0.000e+00", text)
            code, text = self._run(d, {"y": y.numpy() + 1e-3})
            self.assertEqual(code, 1, text)
            code, text = self._run(d, {"y": y.numpy()[:1]})  # wrong shape
            self.assertEqual(code, 1, text)
            self.assertIn("inf", text)


if __name__ == "__main__":
    unittest.main()
