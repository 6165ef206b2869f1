"""Noise schedules as whole-table float64 expressions: β by schedule kind, and every table of the process they define
(ᾱ, posterior variance and mean coefficients, …). Written from the equations (DDPM, IDDPM papers; docs/PIPELINES.md
§1) in a deliberately different style from the C# code, for diffusion_reference.py's parity vectors."""

import torch

F64 = torch.float64
T_TRAIN = 1000  # training timesteps of DiT's and SD's schedules


def linear_betas(start, end, steps):
    frac = torch.arange(steps, dtype=F64) / (steps - 1)
    return start + (end - start) * frac


def scaled_linear_betas(start, end, steps):
    frac = torch.arange(steps, dtype=F64) / (steps - 1)
    root = start ** 0.5 + (end ** 0.5 - start ** 0.5) * frac
    return root * root


def tables(betas):
    """Every table of a process with the given betas, as whole-tensor expressions."""
    alphas = 1.0 - betas
    acp = torch.cumprod(alphas, 0)
    acp_prev = torch.cat([torch.ones(1, dtype=F64), acp[:-1]])
    post_var = betas * (1.0 - acp_prev) / (1.0 - acp)
    log_clip = torch.log(torch.cat([post_var[1:2], post_var[1:]])) if len(betas) > 1 else torch.log(betas)
    return {
        "betas": betas,
        "alphas": alphas,
        "alphas_cumprod": acp,
        "alphas_cumprod_prev": acp_prev,
        "sqrt_alphas_cumprod": acp.sqrt(),
        "sqrt_one_minus_alphas_cumprod": (1.0 - acp).sqrt(),
        "sqrt_recip_alphas_cumprod": (1.0 / acp).sqrt(),
        "sqrt_recipm1_alphas_cumprod": (1.0 / acp - 1.0).sqrt(),
        "posterior_variance": post_var,
        "posterior_log_variance_clipped": log_clip,
        "posterior_mean_coef1": betas * acp_prev.sqrt() / (1.0 - acp),
        "posterior_mean_coef2": (1.0 - acp_prev) * alphas.sqrt() / (1.0 - acp),
        "log_betas": torch.log(betas),
    }
