"""Which timesteps a sampler visits: IDDPM's space_timesteps (respacing, and the β of the respaced process) and
diffusers' set_timesteps spacings. Written from IDDPM's and diffusers' documented behaviour, for
diffusion_reference.py's parity vectors."""

import numpy as np
import torch

from noise_schedules import F64


def iddpm_space_timesteps(total, spec):
    """IDDPM's definition: 'ddimK' -> uniform integer stride with exactly K steps; otherwise equal
    portions, each keeping round(j * (size-1)/(count-1)) (position accumulated, Python rounding)."""
    if spec.startswith("ddim"):
        want = int(spec[4:])
        for stride in range(1, total):
            steps = list(range(0, total, stride))
            if len(steps) == want:
                return steps
        raise ValueError(spec)
    counts = [int(c) for c in spec.split(",")]
    base, extra = divmod(total, len(counts))
    kept, offset = set(), 0
    for k, count in enumerate(counts):
        size = base + (1 if k < extra else 0)
        stride = 1 if count <= 1 else (size - 1) / (count - 1)
        pos = 0.0
        for _ in range(count):
            kept.add(offset + round(pos))
            pos += stride
        offset += size
    return sorted(kept)


def diffusers_timesteps(total, steps, spacing, offset=0):
    """diffusers DDIMScheduler.set_timesteps, ascending."""
    if spacing == "leading":
        ts = (np.arange(0, steps) * (total // steps)).round() + offset
    elif spacing == "trailing":
        ts = np.round(np.arange(total, 0, -total / steps)) - 1
    elif spacing == "linspace":
        ts = np.linspace(0, total - 1, steps).round()
    else:
        raise ValueError(spacing)
    return sorted(int(t) for t in ts)


def respaced_betas(acp_base, kept):
    acp = acp_base[kept]
    prev = torch.cat([torch.ones(1, dtype=F64), acp[:-1]])
    return 1.0 - acp / prev
