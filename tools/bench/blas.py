"""What the matrix products run on: a GEMM's GFLOP/s and the BLAS libraries loaded in this process."""

import os

from bench_timing import median_ms


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
