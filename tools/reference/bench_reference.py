#!/usr/bin/python3
"""PyTorch-eager timings of the stages of `evlf bench` that have independent references in tools/reference.

`evlf bench` (src/Evlf.Cli/Commands/BenchCommand.cs) runs this script after its own stages, in the same run on
the same machine, with its own libtorch thread count, and stores the JSON object it prints under
"python_reference" in bench.json together with the C#/Python ratios (src/Evlf.Cli/Bench/PythonReference.cs).
By hand:

    /usr/bin/python3 tools/reference/bench_reference.py --threads 2 [--quick | --tiny]

Every stage runs on the sizes the C# bench uses (--quick: the C# bench's --quick repetitions); --tiny shrinks
everything so that tools/reference/test_bench_reference.py finishes in seconds (its numbers mean nothing).
torch.set_num_threads(--threads); the OpenMP and BLAS pools threadpoolctl finds (OpenBLAS, scikit-learn's
OpenMP) are limited to the same count.

What the matrix products run on comes first, since it decides most of the comparison:
  gemm_1024_gflops                a float32 1024³ matmul, as the C# bench's figure of the same name.
  blas                            torch's BLAS_INFO and the BLAS/LAPACK/MKL libraries loaded in this process.
                                  Debian's torch is built with BLAS_INFO=generic and calls whichever
                                  libblas.so.3 the alternatives system selects; with the netlib reference BLAS
                                  (the default when no other is installed) every matmul is tens of times
                                  slower than in TorchSharp's libtorch: compare the two gemm_1024_gflops, and
                                  install an optimised BLAS (apt-get install libopenblas0-pthread) before
                                  reading the other ratios.

Stages (keys of the printed object):
  fusion_training_ms_per_step     EVLF stage A, as FusionTrainer trains it: ms per optimizer step of 2
                                  micro-batches of 16 (64 random latents 4x8x8, 10 classes, text 16x384),
                                  condition dropout, InfoNCE + λ2·MSE, one backward, global-norm clipping to
                                  1.0, AdamW with two groups. The modules are fusion_reference.py's own
                                  (default FusionConfig, random weights, dropout on). Like the C# figure it is
                                  wall time from building the modules to the last step, divided by the steps;
                                  the C# figure also writes a checkpoint and two .onnx files at the end.
  convnet3_images_per_second      ConvNet-3 (width 128, GroupNorm(128, 128) as instance norm, ReLU, avg-pool,
                                  padding 3 on the first conv for 1x28x28) trained under the DC/DSA protocol
                                  on 100 images: SGD lr 0.01 momentum 0.9 weight decay 5e-4, batch 256,
                                  cross-entropy, lr x0.1 at half (new optimiser), one DSA operation per batch
                                  with per-sample parameters (written here from DsaAugmentation's
                                  description; DSA is included, "dsa": true). The C# bench trains on real
                                  Fashion-MNIST images, this on N(0, 1) images: the speed does not depend on
                                  the pixels.
  sampler_step_math_ms_per_step   The sampler's math only, without any network: classifier-free guidance
                                  (s = 4 on channels 0-2 of an 8-channel output, batch [cond; uncond] of 2x10)
                                  then a DDPM learned-range step x_{i-1} = mean + σ·noise, over the 50 steps of
                                  DiT's respaced schedule (diffusion_reference.py's cfg and ddpm_parts). The C#
                                  bench's "sampler_ms_per_step" includes the DiT forward in ONNX Runtime, which
                                  has no Python counterpart here; C# times the same math as
                                  "sampler_step_math_ms_per_step".
  kmeans_6000x256_k10_seconds     scikit-learn KMeans (k-means++, one init, Lloyd, max_iter 300, tol 1e-4) on
                                  6000x256 float32 rows (10 overlapping Gaussian blobs drawn with torch from
                                  seed 0, as the C# bench draws them), k = 10: median seconds over seeds
                                  0..R-1; "kmeans_ms_per_iteration" divides by the median Lloyd iterations,
                                  since each side's seeding draws its own random numbers. Both sides print
                                  "data_sum": equal sums mean the same rows were clustered (they are with
                                  torch 1.13 here and TorchSharp 0.107's libtorch).

Also printed: versions, threads, mode, and per stage the sizes it ran. A stage whose package is missing
(scikit-learn) is listed under "skipped" instead. Exit status: 0; 3 (with a line on stderr) when this
interpreter cannot import torch; 2 on bad arguments.
"""

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time

# Repetitions per mode; the C# bench uses 20 timed runs (5 with --quick), 60 fusion steps (20), 200 ConvNet
# epochs (50).
MODES = {
    "full": {"runs": 20, "gemm_size": 1024, "fusion_steps": 60, "convnet_images": 100, "convnet_epochs": 200,
             "sampler_images": 10, "kmeans_rows": 6000, "kmeans_dims": 256, "kmeans_k": 10, "kmeans_repeats": 5},
    "quick": {"runs": 5, "gemm_size": 1024, "fusion_steps": 20, "convnet_images": 100, "convnet_epochs": 50,
              "sampler_images": 10, "kmeans_rows": 6000, "kmeans_dims": 256, "kmeans_k": 10, "kmeans_repeats": 3},
    "tiny": {"runs": 2, "gemm_size": 64, "fusion_steps": 2, "convnet_images": 12, "convnet_epochs": 2,
             "fusion_config": {"Width": 32, "TextDim": 24, "TextLength": 4}, "convnet_width": 16,
             "sampler_images": 2, "kmeans_rows": 300, "kmeans_dims": 16, "kmeans_k": 10, "kmeans_repeats": 1},
}

# EVLF stage A as FusionConfig / FusionTrainingOptions default it (PIPELINES.md §2).
FUSION_CONFIG = {"LatentChannels": 4, "LatentSize": 8, "TextDim": 384, "TextLength": 16, "Width": 256, "Heads": 4,
                 "Layers": 2, "Dropout": 0.1, "RefreshKeyValues": False, "PreNorm": False,
                 "ProjectorChannels": 64, "ProjectorKernel": 4, "ProjectorPool": 4}
FUSION_SAMPLES, FUSION_CLASSES, BATCH, ACCUMULATION = 64, 10, 16, 2
LR_FUSION, LR_PROJECTOR, WEIGHT_DECAY, CLIP = 3e-4, 1e-4, 1e-2, 1.0
TEMPERATURE = 0.07                                # λ1, λ2 ramp, condition dropout/noise: fusion_reference.py

# DSA's evaluation constants (DsaParameters).
DSA_OPS = ["color", "crop", "cutout", "flip", "scale", "rotate"]
FLIP, SCALE, ROTATE_DEGREES, CROP_PAD, CUTOUT = 0.5, 1.2, 15.0, 0.125, 0.5
BRIGHTNESS, SATURATION, CONTRAST = 1.0, 2.0, 0.5

SAMPLER_STEPS, GUIDANCE_SCALE, GUIDED_CHANNELS = 50, 4.0, 3
KMEANS_SPREAD = 0.15  # blob centres ~ N(0, 0.15²) per feature around unit-variance noise: overlapping clusters


def median_ms(fn, runs, warmup=3):
    """Warm-up calls, then the median of `runs` timed calls (as Timing.MedianMilliseconds)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


# --------------------------------------------------------------------------------------------
# Fusion training (EVLF stage A)
# --------------------------------------------------------------------------------------------

def fusion_training(torch, fr, steps, cfg):
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(FUSION_SAMPLES, cfg["LatentChannels"], cfg["LatentSize"], cfg["LatentSize"], generator=g)
    labels = torch.arange(FUSION_SAMPLES) % FUSION_CLASSES
    class_tokens = torch.randn(FUSION_CLASSES, cfg["TextLength"], cfg["TextDim"], generator=g)
    class_vectors = torch.randn(FUSION_CLASSES, cfg["TextDim"], generator=g)
    micro_per_epoch = FUSION_SAMPLES // BATCH
    ramp = micro_per_epoch * (steps * ACCUMULATION // micro_per_epoch) / 2
    logit_scale = math.log(1 / TEMPERATURE)

    start = time.perf_counter()
    torch.manual_seed(0)
    fusion = fr.CrossAttentionFusion(cfg).train()
    projector = fr.LatentProjector(cfg).train()
    parameters = list(fusion.parameters()) + list(projector.parameters())
    optimizer = torch.optim.AdamW([{"params": list(fusion.parameters()), "lr": LR_FUSION},
                                   {"params": list(projector.parameters()), "lr": LR_PROJECTOR}],
                                  weight_decay=WEIGHT_DECAY)
    order = None
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for k in range(ACCUMULATION):
            micro = step * ACCUMULATION + k
            position = micro % micro_per_epoch
            if position == 0:
                order = torch.randperm(FUSION_SAMPLES, generator=g)
            idx = order[position * BATCH:(position + 1) * BATCH]
            z, y = latents[idx], labels[idx]
            loss, nce, rec, _ = fr.micro_batch_loss(fusion, projector, z, y, class_tokens, class_vectors, logit_scale, micro, ramp, g)
            total = total + loss / ACCUMULATION
            nce.item(), rec.item()  # FusionTrainer reads both for its log
        total.backward()
        torch.nn.utils.clip_grad_norm_(parameters, CLIP)
        optimizer.step()
        total.item()
    ms = (time.perf_counter() - start) * 1e3 / steps
    return ms, {"steps": steps, "batch": BATCH, "accumulation": ACCUMULATION, "samples": FUSION_SAMPLES, "config": cfg,
                "timed": "module construction and every step; no checkpoint or .onnx writing"}


# --------------------------------------------------------------------------------------------
# ConvNet-3 under the DC/DSA protocol
# --------------------------------------------------------------------------------------------

def convnet3(nn, channels, size, classes, width=128, depth=3):
    layers, c, h = [], channels, size
    for d in range(depth):
        padding = 3 if channels == 1 and d == 0 else 1
        layers += [nn.Conv2d(c, width, 3, padding=padding), nn.GroupNorm(width, width, affine=True),
                   nn.ReLU(inplace=True), nn.AvgPool2d(2, 2)]
        c, h = width, (h + 2 * padding - 2) // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * h, classes))


def dsa(torch, F, x, g):
    """One DSA operation group for the whole batch, parameters drawn per sample."""
    op = DSA_OPS[int(torch.randint(len(DSA_OPS), (1,), generator=g))]
    n, _, h, w = x.shape

    def u():
        return torch.rand(n, generator=g).view(n, 1, 1, 1)

    if op == "color":
        x = x + (u() - 0.5) * BRIGHTNESS
        m = x.mean(1, keepdim=True)
        x = (x - m) * (u() * SATURATION) + m
        m = x.mean((1, 2, 3), keepdim=True)
        return (x - m) * (u() + CONTRAST) + m
    if op == "crop":
        s = int(h * CROP_PAD + 0.5)
        dx = torch.randint(-s, s + 1, (n, 1), generator=g)
        dy = torch.randint(-s, s + 1, (n, 1), generator=g)
        padded = F.pad(x, (1, 1, 1, 1))
        rows = (torch.arange(h) + dx + 1).clamp(0, h + 1)
        cols = (torch.arange(w) + dy + 1).clamp(0, w + 1)
        return padded[torch.arange(n)[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    if op == "cutout":
        s = int(h * CUTOUT + 0.5)
        ox = torch.randint(0, h + (1 - s % 2), (n, 1), generator=g) - s // 2
        oy = torch.randint(0, w + (1 - s % 2), (n, 1), generator=g) - s // 2
        r, c = torch.arange(h), torch.arange(w)
        inside = ((r >= ox) & (r < ox + s))[:, None, :, None] & ((c >= oy) & (c < oy + s))[:, None, None, :]
        return x.masked_fill(inside, 0)
    if op == "flip":
        return torch.where(u() < FLIP, x.flip(3), x)
    if op == "scale":
        sx = torch.rand(n, generator=g) * (SCALE - 1 / SCALE) + 1 / SCALE
        sy = torch.rand(n, generator=g) * (SCALE - 1 / SCALE) + 1 / SCALE
        zero = torch.zeros(n)
        theta = torch.stack([torch.stack([sx, zero, zero], 1), torch.stack([zero, sy, zero], 1)], 1)
    else:
        a = (torch.rand(n, generator=g) - 0.5) * 2 * ROTATE_DEGREES / 180 * math.pi
        zero = torch.zeros(n)
        theta = torch.stack([torch.stack([a.cos(), -a.sin(), zero], 1), torch.stack([a.sin(), a.cos(), zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def convnet_training(torch, images, epochs, width, classes=10, lr=0.01, batch=256):
    nn, F = torch.nn, torch.nn.functional
    g = torch.Generator().manual_seed(0)
    x = torch.randn(images, 1, 28, 28, generator=g)
    y = torch.arange(images) % classes
    torch.manual_seed(0)
    model = convnet3(nn, 1, 28, classes, width)

    start = time.perf_counter()
    model.train()
    rate = lr
    optimizer = torch.optim.SGD(model.parameters(), rate, momentum=0.9, weight_decay=5e-4)
    for epoch in range(epochs):
        if (lr if epoch < epochs // 2 else lr * 0.1) != rate:
            rate = lr * 0.1
            optimizer = torch.optim.SGD(model.parameters(), rate, momentum=0.9, weight_decay=5e-4)
        order = torch.randperm(images, generator=g)
        for first in range(0, images, batch):
            idx = order[first:first + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(dsa(torch, F, x[idx], g)), y[idx])
            loss.backward()
            optimizer.step()
            loss.item()
    seconds = time.perf_counter() - start
    return images * epochs / seconds, {"images": images, "epochs": epochs, "batch": batch, "width": width, "dsa": True,
                                       "data": "N(0, 1) images 1x28x28"}


# --------------------------------------------------------------------------------------------
# Sampler math: CFG + DDPM learned-range step
# --------------------------------------------------------------------------------------------

def sampler_step_math(torch, dr, images, runs):
    base = dr.tables(dr.linear_betas(1e-4, 0.02, dr.T_TRAIN))
    kept = dr.iddpm_space_timesteps(dr.T_TRAIN, str(SAMPLER_STEPS))
    tab = dr.tables(dr.respaced_betas(base["alphas_cumprod"], torch.tensor(kept)))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(images, 4, 8, 8, generator=g)
    raw = torch.randn(2 * images, 8, 8, 8, generator=g)
    noise = torch.randn(images, 4, 8, 8, generator=g)

    def walk():
        for i in range(SAMPLER_STEPS - 1, -1, -1):
            out = dr.cfg(raw[:images], raw[images:], GUIDANCE_SCALE, GUIDED_CHANNELS)
            _, _, mean, std = dr.ddpm_parts(tab, i, x, out)
            _ = mean + std * noise if i > 0 else mean

    with torch.no_grad():
        ms = median_ms(walk, runs) / SAMPLER_STEPS
    return ms, {"images": images, "latent": [4, 8, 8], "steps": SAMPLER_STEPS, "guidance_scale": GUIDANCE_SCALE,
                "guided_channels": GUIDED_CHANNELS, "variance": "learned_range",
                "timed": "CFG combine + DDPM step per step; no network"}


# --------------------------------------------------------------------------------------------
# k-means
# --------------------------------------------------------------------------------------------

def kmeans_data(torch, rows, dims, k):
    """k overlapping Gaussian blobs, drawn with torch from seed 0 exactly as BenchCommand draws them."""
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(k, dims, generator=g) * KMEANS_SPREAD
    return centres[torch.arange(rows) % k] + torch.randn(rows, dims, generator=g)


def kmeans(torch, rows, dims, k, repeats):
    from sklearn.cluster import KMeans
    x = kmeans_data(torch, rows, dims, k).numpy()
    seconds, iterations = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        fit = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd",
                     random_state=seed).fit(x)
        seconds.append(time.perf_counter() - start)
        iterations.append(int(fit.n_iter_))
    s, it = statistics.median(seconds), statistics.median(iterations)
    return s, 1e3 * s / it, {"rows": rows, "dims": dims, "k": k, "repeats": repeats, "iterations_median": it,
                             "iterations": iterations, "data_sum": float(x.astype("float64").sum())}


# --------------------------------------------------------------------------------------------
# What the matrix products run on
# --------------------------------------------------------------------------------------------

def gemm_gflops(torch, size, runs):
    """GFLOP/s of a float32 size³ matmul, as the C# bench's gemm_1024_gflops (at most 5 timed runs: on a
    reference BLAS one takes seconds)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2.0 * size ** 3 / median_ms(lambda: torch.mm(a, b), min(runs, 5), warmup=1) / 1e6


def blas_libraries(torch):
    """torch's BLAS_INFO and the BLAS/LAPACK/MKL libraries mapped into this process (Linux), so a reader can
    tell an optimised BLAS from the netlib reference one that Debian's torch falls back to."""
    config = torch.__config__.show()
    info = next((part.split("=", 1)[1] for part in config.replace(",", " ").split() if part.startswith("BLAS_INFO=")), None)
    libraries = set()
    if os.path.exists("/proc/self/maps"):
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                name = os.path.basename(path).lower()
                if path.startswith("/") and any(key in name for key in ("blas", "lapack", "mkl")):
                    libraries.add(os.path.realpath(path))
    return {"torch_blas_info": info, "libraries": sorted(libraries)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads and the sklearn pools")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the repetitions of evlf bench --quick")
    mode.add_argument("--tiny", action="store_true", help="tiny sizes for the unit test (numbers mean nothing)")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error(f"--threads must be at least 1; got {args.threads}")
    try:
        import torch
    except ImportError as e:
        print(f"bench_reference.py: {sys.executable} cannot import torch ({e}); install PyTorch for this interpreter "
              "(Debian: apt-get install python3-torch) or run evlf bench --no-python", file=sys.stderr)
        return 3
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=args.threads)
    except ImportError:
        limits = contextlib.nullcontext()
    with limits:
        report = measure(torch, "tiny" if args.tiny else "quick" if args.quick else "full")
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


def measure(torch, name):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import diffusion_reference as dr
    import fusion_reference as fr

    m = MODES[name]
    report = {"script": "tools/reference/bench_reference.py", "torch_version": torch.__version__,
              "python_version": sys.version.split()[0], "threads": torch.get_num_threads(), "mode": name,
              "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"), "skipped": {}}

    report["gemm_1024_gflops"] = gemm_gflops(torch, m["gemm_size"], m["runs"])
    report["blas"] = blas_libraries(torch)
    report["fusion_training_ms_per_step"], report["fusion_training"] = fusion_training(
        torch, fr, m["fusion_steps"], {**FUSION_CONFIG, **m.get("fusion_config", {})})
    report["convnet3_images_per_second"], report["convnet3_training"] = convnet_training(
        torch, m["convnet_images"], m["convnet_epochs"], m.get("convnet_width", 128))
    report["sampler_step_math_ms_per_step"], report["sampler_step_math"] = sampler_step_math(
        torch, dr, m["sampler_images"], m["runs"])
    try:
        import sklearn
        report["sklearn_version"] = sklearn.__version__
        (report["kmeans_6000x256_k10_seconds"], report["kmeans_ms_per_iteration"],
         report["kmeans"]) = kmeans(torch, m["kmeans_rows"], m["kmeans_dims"], m["kmeans_k"], m["kmeans_repeats"])
    except ImportError as e:
        report["skipped"]["kmeans"] = f"scikit-learn is missing ({e})"
    return report


if __name__ == "__main__":
    sys.exit(main())
