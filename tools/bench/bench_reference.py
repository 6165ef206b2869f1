#!/usr/bin/python3
"""PyTorch-eager timings of the stages of `evlf bench` that have independent references in tools/reference.

`evlf bench` (src/Evlf.Bench/PyTorch/PythonStagesBenchmark.cs) runs this script after its own stages, in the same run
on the same machine, with its own libtorch thread count, and stores the JSON object it prints under
"python_reference" in bench.json together with the C#/Python ratios (src/Evlf.Bench/PyTorch/PythonReference.cs).
By hand:

    /usr/bin/python3 tools/bench/bench_reference.py --threads 2 [--quick | --tiny]

Every stage runs on the sizes the C# bench uses (--quick: the C# bench's --quick repetitions); --tiny shrinks
everything so that tools/bench/test_bench_reference.py finishes in seconds (its numbers mean nothing).
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
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))  # diffusion_reference.py, fusion_reference.py

import eager_torch  # noqa: E402

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads and the sklearn pools")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the repetitions of evlf bench --quick")
    mode.add_argument("--tiny", action="store_true", help="tiny sizes for the unit test (numbers mean nothing)")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error(f"--threads must be at least 1; got {args.threads}")
    torch = eager_torch.import_torch("bench_reference.py", args.threads)
    if torch is None:
        return eager_torch.MISSING_TORCH
    with eager_torch.pool_limits(args.threads):
        report = measure(torch, "tiny" if args.tiny else "quick" if args.quick else "full")
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


def measure(torch, name):
    import blas
    import convnet_dsa
    import diffusion_reference as dr
    import fusion_reference as fr
    import fusion_step
    import kmeans_timing
    import sampler_math
    from distill_defaults import FUSION_CONFIG

    m = MODES[name]
    report = {"script": "tools/bench/bench_reference.py", "torch_version": torch.__version__,
              "python_version": sys.version.split()[0], "threads": torch.get_num_threads(), "mode": name,
              "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"), "skipped": {}}

    report["gemm_1024_gflops"] = blas.gemm_gflops(torch, m["gemm_size"], m["runs"])
    report["blas"] = blas.blas_libraries(torch)
    report["fusion_training_ms_per_step"], report["fusion_training"] = fusion_step.fusion_training(
        torch, fr, m["fusion_steps"], {**FUSION_CONFIG, **m.get("fusion_config", {})})
    report["convnet3_images_per_second"], report["convnet3_training"] = convnet_dsa.convnet_training(
        torch, m["convnet_images"], m["convnet_epochs"], m.get("convnet_width", 128))
    report["sampler_step_math_ms_per_step"], report["sampler_step_math"] = sampler_math.sampler_step_math(
        torch, dr, m["sampler_images"], m["runs"])
    try:
        import sklearn
        report["sklearn_version"] = sklearn.__version__
        (report["kmeans_6000x256_k10_seconds"], report["kmeans_ms_per_iteration"],
         report["kmeans"]) = kmeans_timing.kmeans(torch, m["kmeans_rows"], m["kmeans_dims"], m["kmeans_k"], m["kmeans_repeats"])
    except ImportError as e:
        report["skipped"]["kmeans"] = f"scikit-learn is missing ({e})"
    return report


if __name__ == "__main__":
    sys.exit(main())
