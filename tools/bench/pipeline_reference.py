#!/usr/bin/python3
"""PyTorch-eager reference of the released-recipe `evlf distill` job, stage by stage, for timing.

`evlf distill --preset released` runs MGD3 + EVLF at IPC 10 on the default bundle models/fmnist-ldm and Fashion-MNIST,
one sample per image from noise (src/Evlf.OnnxHybrid/Distillation/DistillationPipeline.cs); the default preset adds
10 candidates per image, herding's choice among them and, from IPC 10 up, real starts, which this script does not do,
so `evlf bench` runs its C# distill with --preset released. This script does the same work in PyTorch eager on the
CPU, the way the official Python code would: the bundle's ONNX networks run through tools/bench/onnx_eager, the
fusion module and projector are fusion_reference.py's nn.Modules trained with torch.optim.AdamW, the sampler math is
diffusion_reference.py's, and k-means is scikit-learn's (the anchors' own tool). `evlf bench` runs it after its own
end-to-end distill with the same settings and threads and records the C# speedup (src/Evlf.Bench/PyTorch/).
The full job by hand is `evlf distill --preset released --fusion-samples 12000` against this script's defaults.
By hand (the Debian interpreter with torch 1.13, onnx 1.12, numpy, scikit-learn and Pillow):

    /usr/bin/python3 tools/bench/pipeline_reference.py --bundle models/fmnist-ldm \
        --data /usr/share/datasets/fashion-mnist --out /tmp/pyref [--fusion-epochs 4] [--fusion-samples 12000] \
        [--threads 2] [--json /tmp/pyref/pipeline.json]

    # what `evlf bench --quick` times: FusionTrainingOptions(Epochs: 1, MaxSamples: 4000)
    ... --fusion-epochs 1 --fusion-samples 4000

It prints one JSON object as the last line of stdout (and writes it to --json): seconds per stage, the total, and the
settings. Exit status 0; 3 (with a line on stderr) when this interpreter cannot import torch; 2 on bad arguments.

Stages (the names of the C# manifest's "stages"), each doing what its C# counterpart does:
  latents  every training image padded 28 -> 32 (black, centred) and mapped to [-1, 1]; VAE encoder on all of them and
           on their horizontal flips, in calls of 100; posterior mean and log-variance of both saved (torch.save).
  text     the prompt names (the released code conditions on the raw class string) tokenised with BERT WordPiece
           (lower case, [CLS] ... [SEP] padded to 16), all-MiniLM-L6-v2 from evlf's cache (SHA-256 checked, as
           MiniLmResources does on every load), token embeddings (10, 16, 384) and mask-weighted mean vectors (10, 384).
  fusion   EVLF stage A as FusionTrainer: a seeded pool of --fusion-samples latents, batch 16 with accumulation 2
           (one backward per optimizer step), per-sample random flip, null condition with probability 0.2 else token
           dropout 0.1 + N(0, 0.01²), InfoNCE (τ 0.07 fixed) + λ2·MSE with λ2 ramped 0.05 -> 1 over the first half of
           the micro-batches, global-norm clipping to 1.0, AdamW (fusion 3e-4, projector 1e-4, weight decay 1e-2),
           a checkpoint (modules + optimizer) every 500 steps and at the end, dropout reseeded per micro-batch; then,
           as the C# stage does, the held-out check: the test split loaded, VAE-encoded, fused, projected, and the MSE
           ratio and top-1 retrieval measured.
  fuse     one seeded coin per image picks the plain or flipped posterior mean; the trained fusion module (eval, clean
           class text) over all of them in batches of 500.
  modes    per class, scikit-learn KMeans (k = IPC, k-means++, one init, Lloyd, max_iter 300, tol 1e-4,
           random_state = seed) on the fused latents × the bundle's scaling factor, flattened to 256.
  sample   per class, IPC latents from N(0, I) through the 50 respaced DDPM steps of the DiT (IDDPM spacing "50",
           learned-range variance), each step one DiT call on the CFG batch [x; x] with labels [c; null] (2 × IPC),
           guidance s = 4 on ε channels 0-2, mode guidance λ 0.1 while the respaced index > 25; then the VAE decoder
           and one PNG per image, written into the stage folder and copied to OUT/images/<class>/<n>.png.

What differs from the C# run:
  - Arithmetic, in two stages, where C# does less for the same result (this script keeps the straightforward
    computation a Python port of the released code would do):
      latents  C# encodes only the views the run reads: each image's coin-flipped view for the modes and both views
               of the fusion pool (--max-train 20000, pool 4000: 24 000 encoder images against 40 000 here); the
               latents it reads are bitwise those of a full encode (DistillationPipelineTests).
      fuse     C# runs the trained module folded (src/Evlf.OnnxHybrid/Fusion/FoldedFusion.cs): the image keys and
               values of both layers and the first layer's queries as 4 -> 256 maps of the latent, the text keys and
               values per class, about 52 instead of 78 million multiply-adds per latent, equal to the module's
               output within 1e-5 (FoldedFusionTests). The held-out check in the fusion stage fuses the same way.
  - Executors: C# infers with ONNX Runtime and trains through its importer (libtorch 2.10 via TorchSharp); here torch
    1.13 eager runs everything, the bundle's graphs through onnx_eager (constant-folded once when loaded) and the
    fusion module as an nn.Module (no graph interpreter in the training loop, as in the official code).
  - Random numbers: the same seeds and the same draws, but torch's generator streams, initialisation and k-means++
    seeding differ between libtorch builds and scikit-learn, so the images are not bit-identical; the number of
    Lloyd iterations of each class may differ by a few.
  - Files: stage outputs are torch.save files and the trained modules are saved as state dicts (C# writes its stage
    tensors and fusion.onnx/projector.onnx with write-back); there is no stage cache (every run computes every
    stage, as the C# run does in bench's fresh folder) and no model or data hashing for cache keys.
  - OpenMP: GOMP_SPINCOUNT=30000 unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set, as the evlf CLI does for libtorch
    (TorchThreads.PreferShortSpin); --threads sets torch.set_num_threads and scikit-learn's pools (default: all cores,
    libtorch's and ONNX Runtime's default in the C# run).
  - --max-train N: the first N training and test images only, as DistillOptions.MaxTrain (evlf bench --quick uses 20000).
Seconds are wall time: the stages' sum plus reading the data and the bundle is "seconds"; importing torch is
"startup_seconds", outside it (the bench's C# figure is measured inside an already started process).

Modules beside this one: distill_defaults (evlf distill's settings), distill_stages (the six stages), fusion_trainer
(FusionTrainer), idx_images, minilm (cache and WordPiece), seeds (Seeds.cs); from tools/reference, diffusion_reference
and fusion_reference.
"""

import argparse
import json
import os
import shutil
import sys
import time

STARTED = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))  # diffusion_reference.py, fusion_reference.py

from distill_defaults import (CFG_SCALE, FUSION_CONFIG, FUSION_EPOCHS, FUSION_SAMPLES, GUIDED_CHANNELS, IPC,  # noqa: E402
                              MODE_LAMBDA, MODE_STOP_T, SEED, STEPS)
import eager_torch  # noqa: E402
from idx_images import read_idx  # noqa: E402


class Stages:
    """Wall time per stage, in the order they ran, and each stage's folder under OUT/.stages."""

    def __init__(self, root):
        self.root = root
        self.seconds = {}
        self.detail = {}

    def folder(self, name):
        path = os.path.join(self.root, name)
        os.makedirs(path, exist_ok=True)
        return path

    def run(self, name, fn):
        start = time.perf_counter()
        result = fn(self.folder(name))
        self.seconds[name] = round(time.perf_counter() - start, 3)
        print(f"pipeline_reference: {name} {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)
        return result


def run(args, torch):
    import numpy as np
    from distill_stages import DistillStages

    clock = time.perf_counter()
    with open(os.path.join(args.bundle, "bundle.json")) as f:
        bundle = json.load(f)
    if not any(v["kind"] == "dit-class" for v in bundle["denoisers"].values()):
        raise SystemExit(f"{args.bundle} has no dit-class denoiser; mgd3 needs one")
    text_config = bundle.get("text_encoder")
    if not text_config or text_config.get("model") != "builtin:minilm":
        raise SystemExit(f"{args.bundle}: this reference knows only the builtin MiniLM text encoder")
    classes = bundle["classes"]

    train_x, train_y = read_idx(args.data, "train-images-idx3-ubyte"), read_idx(args.data, "train-labels-idx1-ubyte")
    test_x, test_y = read_idx(args.data, "t10k-images-idx3-ubyte"), read_idx(args.data, "t10k-labels-idx1-ubyte")
    if args.max_train:
        train_x, train_y = train_x[:args.max_train], train_y[:args.max_train]
        test_x, test_y = test_x[:args.max_train], test_y[:args.max_train]
    per_class = np.bincount(train_y, minlength=len(classes))
    if len(per_class) != len(classes) or per_class.min() < args.ipc:
        raise SystemExit(f"every one of the {len(classes)} classes needs at least --ipc {args.ipc} training images; "
                         f"found {per_class.tolist()}")
    os.makedirs(args.out, exist_ok=True)
    stages = Stages(os.path.join(args.out, ".stages"))
    work = DistillStages(args, bundle, (train_x, train_y, test_x, test_y), stages.detail)
    stages.run("latents", work.latents)
    stages.run("text", work.text)
    stages.run("fusion", work.fusion)
    stages.run("fuse", work.fuse)
    stages.run("modes", work.modes)
    set_dir = stages.run("sample", work.sample)

    # Publish (outside the stages, as in C#): the set into OUT/images.
    images_dir = os.path.join(args.out, "images")
    if os.path.exists(images_dir):
        shutil.rmtree(images_dir)
    shutil.copytree(os.path.join(set_dir, "images"), images_dir)
    written = sum(len(files) for _, _, files in os.walk(images_dir))
    return stages, time.perf_counter() - clock, written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="models/fmnist-ldm")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="a folder of Fashion-MNIST IDX files")
    parser.add_argument("--out", required=True)
    parser.add_argument("--fusion-samples", type=int, default=FUSION_SAMPLES,
                        help=f"fusion training samples per epoch, 0 = every image (evlf distill's default {FUSION_SAMPLES})")
    parser.add_argument("--fusion-epochs", type=int, default=FUSION_EPOCHS)
    parser.add_argument("--max-train", type=int, default=0, help="test knob: the first N training and test images only")
    parser.add_argument("--ipc", type=int, default=IPC)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--minilm", help="folder with all-MiniLM-L6-v2's model.onnx and vocab.txt (default: evlf's cache)")
    parser.add_argument("--json", help="also write the JSON object here")
    args = parser.parse_args()
    if args.fusion_samples != 0 and args.fusion_samples < 32:
        parser.error(f"--fusion-samples must be 0 (every image) or at least 32; got {args.fusion_samples}")
    for name in ("fusion_epochs", "ipc", "steps", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {getattr(args, name)}")
    if not os.path.exists(os.path.join(args.bundle, "bundle.json")):
        parser.error(f"--bundle {args.bundle} has no bundle.json")
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = "30000"  # TorchThreads.DefaultSpinCount, before libgomp loads with torch
    torch = eager_torch.import_torch("pipeline_reference.py", args.threads)
    if torch is None:
        return eager_torch.MISSING_TORCH
    startup = time.perf_counter() - STARTED
    with eager_torch.pool_limits(args.threads):
        stages, seconds, written = run(args, torch)
    import sklearn
    report = {
        "script": "tools/bench/pipeline_reference.py", "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__, "python_version": sys.version.split()[0],
        "threads": torch.get_num_threads(), "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "settings": {"method": "mgd3", "evlf": True, "ipc": args.ipc, "seed": args.seed, "steps": args.steps,
                     "cfg": CFG_SCALE, "guided_channels": GUIDED_CHANNELS, "mode_lambda": MODE_LAMBDA,
                     "mode_stop_t": MODE_STOP_T, "fusion_epochs": args.fusion_epochs,
                     "fusion_samples": args.fusion_samples or None, "max_train": args.max_train or None,
                     "bundle": args.bundle, "data": args.data, "fusion_config": FUSION_CONFIG},
        "stages": stages.seconds, "detail": stages.detail, "seconds": round(seconds, 3),
        "startup_seconds": round(startup, 3), "images": written, "out": os.path.abspath(args.out),
    }
    text = json.dumps(report)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            f.write(json.dumps(report, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
