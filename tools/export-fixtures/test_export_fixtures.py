"""Unit tests of the fixture script's own parts (the fixtures themselves are checked by the C# importer tests).
Run: /usr/bin/python3 -m unittest discover -s tools/export-fixtures -p 'test_*.py'"""

import os
import sys
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "export"))

import clip_text  # noqa: E402
import dit  # noqa: E402
import export_fixtures  # noqa: E402
import unet  # noqa: E402
import vae  # noqa: E402
from variants import VARIANTS  # noqa: E402


class BundleNetworkTests(unittest.TestCase):
    def build(self, kind, opset=17, variant="default"):
        builder = export_fixtures.BUILDERS[kind][0]
        return builder(VARIANTS[variant], torch.Generator().manual_seed(1), opset, 5)

    def test_the_bundle_fixtures_are_tools_exports_modules(self):
        for kind, cls in (("dit", dit.DiT), ("unet", unet.UNet), ("vae_decoder", vae.VaeDecoder),
                          ("clip_text", clip_text.ClipTextModel)):
            model = self.build(kind)[0]
            self.assertIsInstance(model, cls, kind)

    def test_the_opset_13_causal_mask_equals_triu(self):
        model_13, model_17 = self.build("clip_text", 13)[0], self.build("clip_text", 17)[0]
        for length in (1, 5, 8):
            self.assertTrue(torch.equal(model_13.causal_mask(length), model_17.causal_mask(length)))
        ids = self.build("clip_text")[1]["input_ids"]
        with torch.no_grad():
            self.assertTrue(torch.equal(model_13(ids)[0], model_17(ids)[0]))

    def test_clip_pooler_output_is_the_state_at_eos(self):
        model, inputs = self.build("clip_text")[:2]
        ids = inputs["input_ids"]
        eos = VARIANTS["default"]["networks"]["text"]["vocab"] - 1
        self.assertEqual([int((row == eos).nonzero()[0]) for row in ids], [ids.shape[1] - 1, ids.shape[1] - 3])
        with torch.no_grad():
            states, pooled = model(ids)
        for row, position in enumerate(ids.argmax(dim=-1).tolist()):
            self.assertTrue(torch.equal(pooled[row], states[row, position]))

    def test_every_variant_builds_with_its_input_sizes(self):
        for variant in VARIANTS:
            for kind in ("dit", "unet", "vae_decoder", "clip_text"):
                model, inputs = self.build(kind, variant=variant)[:2]
                with torch.no_grad():
                    out = model(*inputs.values())
                first = out if isinstance(out, torch.Tensor) else out[0]
                self.assertEqual(first.shape[0], 2, "%s/%s" % (variant, kind))


if __name__ == "__main__":
    unittest.main()
