#!/usr/bin/python3
"""Export small networks with the real models' structure to ONNX, with reference inputs and outputs, as test fixtures
for the C# ONNX -> TorchSharp importer of Evlf.OnnxHybrid.

    /usr/bin/python3 tools/export-fixtures/export_fixtures.py \
        --out tests/Evlf.OnnxHybrid.Tests/Fixtures [--seed 0] [--variant default] [--only dit,unet]

The DiT, UNet, VAE decoder and CLIP text fixtures are tools/export's networks (dit.py, unet.py, vae.py,
clip_text.py) at its `fixture` preset, built from random state dicts in the official layouts as bundle exports
are (bundle_networks.py); the others have no tools/export counterpart (small_networks.py). Every fixture folder
<out>/<fixture>/ holds
    model.onnx                (+ model.onnx.data for `external_data`)
    inputs/<input name>.pb    serialized onnx.TensorProto, batch 2
    outputs/<output name>.pb  serialized onnx.TensorProto, the PyTorch (CPU, float32, eval) outputs
    meta.json                 names, shapes, dtypes, opset, versions, seed, parameter count, op types
"""

import argparse
import collections
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "export"))

import onnx  # noqa: E402
import torch  # noqa: E402

import bundle_networks  # noqa: E402
import small_networks  # noqa: E402
from fixture_folder import export_fixture, write_index  # noqa: E402
from variants import VARIANTS  # noqa: E402

DEFAULT_OPSET = 17
EXTRA_OPSET = 13
OP13_MODELS = ("dit", "unet", "clip_text")

# fixture model -> (builder, the tools/export network it is or None, the variant's input sizes it takes)
BUILDERS = collections.OrderedDict([
    ("dit", (bundle_networks.build_dit, "dit", ())),
    ("unet", (bundle_networks.build_unet, "unet", ("latent", "context"))),
    ("vae_decoder", (bundle_networks.build_vae_decoder, "vae", ("latent",))),
    ("clip_text", (bundle_networks.build_clip_text, "text", ("seq",))),
    ("bert_text", (small_networks.build_bert_text, None, ())),
    ("bn_dropout", (small_networks.build_bn_dropout, None, ())),
    ("external_data", (small_networks.build_external_data, None, ())),
])


def fixture_table():
    """fixture name -> (model, opset); `dit`, `unet` and `clip_text` also at opset 13 (`<model>_op13`)."""
    table = collections.OrderedDict()
    for kind in BUILDERS:
        table[kind] = (kind, DEFAULT_OPSET)
        if kind in OP13_MODELS:
            table["%s_op%d" % (kind, EXTRA_OPSET)] = (kind, EXTRA_OPSET)
    return table


def fixture_config(kind, variant):
    """What meta.json records as the fixture's configuration."""
    _, network, input_sizes = BUILDERS[kind]
    if network is None:
        return variant[kind]
    return {"tools_export_network": network, "network": variant["networks"][network],
            "inputs": {k: variant["inputs"][k] for k in input_sizes}}


def main(argv=None):
    table = fixture_table()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (fixture folders are created inside)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", default="default", choices=sorted(VARIANTS))
    ap.add_argument("--only", default="", help="comma-separated fixture names: " + ",".join(table))
    args = ap.parse_args(argv)

    names = list(table)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in table]
        if unknown:
            ap.error("unknown fixture(s) %s; known: %s" % (unknown, ", ".join(table)))

    # Known, harmless exporter chatter (kept out of the summary): the prim::Constant shape-inference notice comes
    # from the LayerNorm fix's Constant nodes; the PRESERVE warning concerns models in training mode (bn_dropout is
    # in eval mode); argmax indices for advanced indexing are >= 0.
    for pattern in ("The shape inference of prim::Constant type is missing",
                    "It is recommended that constant folding be turned off",
                    "Exporting aten::index operator of advanced indexing"):
        warnings.filterwarnings("ignore", message=pattern)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    print("torch %s, onnx %s, variant %s, seed %d -> %s" % (torch.__version__, onnx.__version__, args.variant,
                                                             args.seed, args.out))
    variant = VARIANTS[args.variant]
    union, total = collections.defaultdict(set), 0
    for name in names:
        kind, opset = table[name]
        builder = BUILDERS[kind][0]
        hist, size = export_fixture(name, kind, opset, lambda gen, op, seed: builder(variant, gen, op, seed),
                                    fixture_config(kind, variant), args.variant, args.seed, args.out)
        union[opset].update(hist)
        total += size
    for opset in sorted(union):
        print("union of op types at opset %d (%d): %s" % (opset, len(union[opset]), " ".join(sorted(union[opset]))))
    print("total size of the %d fixture folders: %.1f KB" % (len(names), total / 1024.0))
    write_index(args.out, "tools/export-fixtures/export_fixtures.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
